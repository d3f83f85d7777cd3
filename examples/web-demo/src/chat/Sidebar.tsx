/** The left column: who is signed in, their status and menu, actions, and the kit's conversation list. */
import { Avatar, ChannelList, useChannels, useChatClient } from '@natter/react';
import type { ReactNode } from 'react';
import { useState } from 'react';
import { logout, type Navigate, type Screen, switchAccount } from '../session.js';
import type { ThemeChoice } from '../theme.js';
import { useDemoApp } from './app-context.js';
import { NewChatDialog, NewGroupDialog } from './dialogs.js';
import { describeError } from './hooks.js';
import { BlockedPeopleDialog } from './Moderation.js';
import { NotificationPrompt } from './notifications.js';

type Status = 'online' | 'away' | 'invisible';

export interface SidebarProps {
  screen: Screen & { kind: 'signed-in' };
  navigate: Navigate;
  theme: ThemeChoice;
  onTheme(theme: ThemeChoice): void;
  worker: Promise<ServiceWorkerRegistration | undefined>;
}

/** The sidebar. */
export function Sidebar({ screen, navigate, theme, onTheme, worker }: SidebarProps): ReactNode {
  const app = useDemoApp();
  const client = useChatClient();
  const me = app.session.user;
  const { channels, phase } = useChannels();
  const [status, setStatus] = useState<Status>('online');
  const [dialog, setDialog] = useState<'none' | 'chat' | 'group' | 'blocked'>('none');

  const changeStatus = (next: Status) => {
    setStatus(next);
    client.setStatus(next).catch((err: unknown) => app.notify(describeError(err)));
  };

  return (
    <aside className="sidebar" aria-label="Conversations and account">
      <header className="sidebar-head">
        <Avatar id={me.id} />
        <div className="me">
          <span className="me-name">{me.displayName}</span>
          <label className="status-select">
            <span className="sr-only">Your status</span>
            <select id="my-status" value={status} onChange={(e) => changeStatus(e.target.value as Status)}>
              <option value="online">Online</option>
              <option value="away">Away</option>
              <option value="invisible">Invisible</option>
            </select>
          </label>
        </div>
        <details className="menu">
          <summary aria-label="Account menu">⋯</summary>
          <div className="menu-items">
            <label className="menu-theme">
              Theme
              <select value={theme} onChange={(e) => onTheme(e.target.value as ThemeChoice)}>
                <option value="auto">System</option>
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
            <button type="button" id="open-blocked" onClick={() => setDialog('blocked')}>
              Blocked people
            </button>
            <button type="button" onClick={() => void switchAccount(screen, navigate)}>
              Switch account
            </button>
            <button type="button" id="logout" onClick={() => void logout(screen, navigate)}>
              Log out
            </button>
          </div>
        </details>
      </header>
      <NotificationPrompt worker={worker} />
      <div className="sidebar-tools">
        <button type="button" className="tool" onClick={() => setDialog('chat')}>
          New chat
        </button>
        <button type="button" className="tool" onClick={() => setDialog('group')}>
          New group
        </button>
        <button
          type="button"
          className="tool"
          id="open-search"
          aria-pressed={app.panel.kind === 'search'}
          onClick={() => app.showPanel({ kind: app.panel.kind === 'search' ? 'none' : 'search' })}
        >
          Search
        </button>
        <button
          type="button"
          className="tool"
          id="open-mentions"
          aria-pressed={app.panel.kind === 'mentions'}
          onClick={() => app.showPanel({ kind: app.panel.kind === 'mentions' ? 'none' : 'mentions' })}
        >
          Mentions
        </button>
      </div>
      <div className="conversation-nav">
        <ChannelList selectedId={app.activeId} onSelect={(id) => app.open(id)} />
        {phase !== 'loading' && channels.length === 0 ? (
          <p className="empty-list">No conversations yet. Start one with “New chat”.</p>
        ) : null}
      </div>
      <NewChatDialog open={dialog === 'chat'} onClose={() => setDialog('none')} />
      <NewGroupDialog open={dialog === 'group'} onClose={() => setDialog('none')} />
      <BlockedPeopleDialog open={dialog === 'blocked'} onClose={() => setDialog('none')} />
    </aside>
  );
}
