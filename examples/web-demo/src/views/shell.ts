/**
 * The signed-in layout: connection banner, sidebar, conversation, side panel, dialogs and notices. Two
 * columns on wide screens; on phones one at a time (the list, or the open conversation), routed by the
 * URL hash so the browser's back button returns to the list.
 */
import type { ChatController } from '../controller.js';
import { h, region } from '../dom.js';
import { createConversation } from './conversation.js';
import { newChatDialog, newGroupDialog } from './dialogs.js';
import { createPanel } from './panel.js';
import { createSidebar } from './sidebar.js';

function channelFromHash(): string | undefined {
  const match = /^#\/c\/([A-Za-z0-9_.:-]{1,64})$/.exec(location.hash);
  return match?.[1];
}

function bannerText(ctrl: ChatController, now: number): { kind: string; text: string } | undefined {
  const s = ctrl.state;
  const waiting = [...s.pending.values()].filter((p) => p.status !== 'failed').length;
  const queued = waiting
    ? ` ${waiting} message${waiting === 1 ? '' : 's'} will be sent when you are back.`
    : ' Messages you send now are kept and sent when you are back.';
  if (s.ended) return { kind: 'ended', text: s.ended };
  if (!s.networkOnline) return { kind: 'offline', text: `You are offline.${queued}` };
  if (s.connection === 'open' || !s.everOpen) return undefined;
  const next =
    s.reconnectAt && s.reconnectAt > now ? ` Next try in ${Math.ceil((s.reconnectAt - now) / 1000)} s.` : '';
  return { kind: 'reconnecting', text: `Connection lost. Reconnecting…${next}${waiting ? queued : ''}` };
}

/** Mounts the app into `root` and keeps it drawn; returns a function that unmounts it. */
export function mountApp(root: HTMLElement, ctrl: ChatController): () => void {
  // Opening pushes a history entry, so the browser's back button returns to the list on phones.
  const open = (channelId: string | undefined) => {
    const hash = channelId ? `#/c/${channelId}` : '#/';
    if (location.hash !== hash) history.pushState(null, '', hash);
    ctrl.openChannel(channelId);
  };
  const newChat = newChatDialog(ctrl);
  const newGroup = newGroupDialog(ctrl);
  const sidebar = createSidebar(ctrl, { open, newChat: newChat.open, newGroup: newGroup.open });
  const conversation = createConversation(ctrl, { back: () => open(undefined) });
  const panel = createPanel(ctrl);
  const banner = h('div', {
    class: 'banner',
    id: 'connection-banner',
    role: 'status',
    'aria-live': 'polite',
  });
  const notice = h('div', { class: 'notice', role: 'alert', 'aria-live': 'assertive' });
  const app = h(
    'div',
    { class: 'app', id: 'app-shell' },
    banner,
    h('div', { class: 'columns' }, sidebar.root, conversation.root, panel.root),
    notice,
    newChat.dialog,
    newGroup.dialog,
  );
  root.replaceChildren(app);

  const draw = () => {
    const now = Date.now();
    const s = ctrl.state;
    // Conversations opened by the app (a new group, a search result) get their URL too, without a history entry.
    if (channelFromHash() !== s.activeId)
      history.replaceState(null, '', s.activeId ? `#/c/${s.activeId}` : '#/');
    app.dataset.view = s.activeId ? 'conversation' : 'list';
    app.dataset.panel = s.panel.kind;
    app.dataset.connection = s.networkOnline ? s.connection : 'offline';
    const b = bannerText(ctrl, now);
    banner.hidden = !b;
    region(banner, b ? `${b.kind}|${b.text}` : '', () =>
      b
        ? [
            h('span', { class: 'banner-text' }, b.text),
            b.kind === 'ended'
              ? h(
                  'button',
                  { type: 'button', class: 'small', onclick: () => void ctrl.switchAccount() },
                  'Sign in again',
                )
              : null,
          ]
        : null,
    );
    banner.className = `banner ${b?.kind ?? ''}`;
    sidebar.render(now);
    conversation.render(now);
    panel.render(now);
    notice.hidden = !s.notice;
    notice.textContent = s.notice ?? '';
  };

  const onHash = () => ctrl.openChannel(channelFromHash());
  window.addEventListener('hashchange', onHash);
  window.addEventListener('popstate', onHash);
  const off = ctrl.subscribe(draw);
  // "last seen 5 min ago", list times and the reconnect countdown age: redraw now and then.
  const ticker = setInterval(draw, 1_000);
  onHash();
  draw();
  return () => {
    off();
    clearInterval(ticker);
    window.removeEventListener('hashchange', onHash);
    window.removeEventListener('popstate', onHash);
  };
}
