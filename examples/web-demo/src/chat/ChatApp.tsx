/**
 * The signed-in app: the kit's provider over this account's client, and the layout: connection banner,
 * sidebar, conversation, side panel, dialogs and notices. Two columns on wide screens; on phones one at a
 * time (the list, or the open conversation), routed by the URL hash so the back button returns to the list.
 */
import { NatterProvider, useChannels, useChatStores, useJumpToMessage } from '@natter/react';
import type { ReactNode } from 'react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { pushHook } from '../push.js';
import { type Navigate, type Screen, switchAccount } from '../session.js';
import type { ThemeChoice } from '../theme.js';
import { useProfileCache } from '../users.js';
import { type DemoApp, DemoAppContext, type Panel } from './app-context.js';
import { ConnectionBanner } from './ConnectionBanner.js';
import { Conversation } from './Conversation.js';
import { useDesktopNotifications } from './notifications.js';
import { Sidebar } from './Sidebar.js';
import { SidePanel } from './SidePanel.js';

export interface ChatAppProps {
  screen: Screen & { kind: 'signed-in' };
  navigate: Navigate;
  worker: Promise<ServiceWorkerRegistration | undefined>;
  theme: ThemeChoice;
  onTheme(theme: ThemeChoice): void;
}

/** The signed-in app for one account. */
export function ChatApp(props: ChatAppProps): ReactNode {
  return (
    <NatterProvider client={props.screen.client}>
      <SignedIn {...props} />
    </NatterProvider>
  );
}

function channelFromHash(): string | undefined {
  return /^#\/c\/([A-Za-z0-9_.:-]{1,64})$/.exec(location.hash)?.[1];
}

function SignedIn({ screen, navigate, worker, theme, onTheme }: ChatAppProps): ReactNode {
  const { session, client } = screen;
  const seeded = useProfileCache(session.user);
  const [activeId, setActiveId] = useState(channelFromHash);
  const [panel, setPanel] = useState<Panel>({ kind: 'none' });
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const noticeTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const jump = useJumpToMessage();
  const { channels, phase } = useChannels();

  // The back button (and links to #/c/…) move between the list and conversations.
  useEffect(() => {
    const onHash = () => setActiveId(channelFromHash());
    window.addEventListener('popstate', onHash);
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener('popstate', onHash);
      window.removeEventListener('hashchange', onHash);
    };
  }, []);

  // Removed from the group, or left it on another device: back to the list.
  useEffect(() => {
    if (activeId && phase === 'ready' && !channels.some((c) => c.channel.id === activeId)) {
      setActiveId(undefined);
      history.replaceState(null, '', '#/');
    }
  }, [activeId, channels, phase]);

  // Back online after starting offline: profiles and presence that could not be fetched are asked again
  // (the kit fetches each once; a failed fetch is retried only when asked).
  const stores = useChatStores();
  useEffect(
    () =>
      client.on('state', ({ status }) => {
        if (status !== 'open') return;
        const ids = [
          ...new Set(stores.channels.getSnapshot().channels.flatMap((c) => c.channel.memberIds)),
        ].filter((id) => id !== session.user.id);
        stores.users.want(ids);
        stores.presence.want(ids);
      }),
    [client, stores, session],
  );

  // Offline notifications need the service worker; a closed tab gets them through Web Push.
  useEffect(() => {
    void worker.then((registration) => pushHook.signedIn(client, registration));
  }, [worker, client]);
  const open = useCallback((channelId: string | undefined) => {
    const hash = channelId ? `#/c/${channelId}` : '#/';
    if (location.hash !== hash) history.pushState(null, '', hash);
    setActiveId(channelId);
    setPanel((p) => (p.kind === 'details' ? { kind: 'none' } : p));
  }, []);
  useDesktopNotifications(worker, session.user.id, open);

  const app = useMemo<DemoApp>(
    () => ({
      session,
      client,
      activeId,
      open,
      jumpTo: (channelId, seq) => {
        if (window.matchMedia('(max-width: 759px)').matches) setPanel({ kind: 'none' });
        open(channelId);
        void jump(channelId, seq);
      },
      panel,
      showPanel: setPanel,
      notify: (text) => {
        setNotice(text);
        clearTimeout(noticeTimer.current);
        noticeTimer.current = setTimeout(() => setNotice(undefined), 6_000);
      },
    }),
    [session, client, activeId, open, jump, panel],
  );

  if (!seeded) return null;
  return (
    <DemoAppContext.Provider value={app}>
      <div
        className="app"
        id="app-shell"
        data-view={activeId ? 'conversation' : 'list'}
        data-panel={panel.kind}
      >
        <ConnectionBanner ended={screen.ended} onSignInAgain={() => void switchAccount(screen, navigate)} />
        <div className="columns">
          <Sidebar navigate={navigate} screen={screen} theme={theme} onTheme={onTheme} worker={worker} />
          <Conversation />
          <SidePanel />
        </div>
        <div className="notice" role="alert" hidden={!notice}>
          {notice}
        </div>
      </div>
    </DemoAppContext.Provider>
  );
}
