/** The left column: who is signed in, actions, and the conversation list sorted by activity. */
import type { CachedChannel } from '@natter/client';
import type { ChatController } from '../controller.js';
import { h, type KeyedItem, patchKeyed, region } from '../dom.js';
import { listTime, nameOf, previewText, typingText } from '../format.js';
import type { AppState } from '../state.js';
import { avatar, channelAvatar, channelTitle, peerOf, srOnly, statusOf } from './bits.js';

/** The sidebar's persistent elements. */
export interface Sidebar {
  root: HTMLElement;
  render(now: number): void;
}

/** Conversations, most recent activity first (the SDK's cache order, kept stable for equal times). */
export function sortChannels(channels: readonly CachedChannel[]): CachedChannel[] {
  const activity = (ch: CachedChannel) => ch.lastMessage?.createdAt ?? ch.createdAt;
  return [...channels].sort((a, b) => activity(b) - activity(a) || a.id.localeCompare(b.id));
}

function typingIn(state: AppState, channelId: string): string[] {
  const now = Date.now();
  return [...(state.typing.get(channelId) ?? new Map<string, number>())]
    .filter(([, until]) => until > now)
    .map(([id]) => nameOf(state.users, id));
}

/** Builds the sidebar. `open` navigates to a conversation; the actions open dialogs and panels. */
export function createSidebar(
  ctrl: ChatController,
  actions: { open(channelId: string): void; newChat(): void; newGroup(): void },
): Sidebar {
  const head = h('header', { class: 'sidebar-head' });
  const list = h('ul', { class: 'conversations', 'aria-label': 'Conversations' });
  const empty = h(
    'p',
    { class: 'empty-list', hidden: true },
    'No conversations yet. Start one with “New chat”.',
  );
  const tools = h(
    'div',
    { class: 'sidebar-tools' },
    h('button', { type: 'button', class: 'tool', onclick: actions.newChat }, 'New chat'),
    h('button', { type: 'button', class: 'tool', onclick: actions.newGroup }, 'New group'),
    h(
      'button',
      { type: 'button', class: 'tool', id: 'open-search', onclick: () => ctrl.showPanel('search') },
      'Search',
    ),
    h(
      'button',
      { type: 'button', class: 'tool', id: 'open-mentions', onclick: () => ctrl.showPanel('mentions') },
      'Mentions',
    ),
  );
  const root = h(
    'aside',
    { class: 'sidebar', 'aria-label': 'Conversations and account' },
    head,
    tools,
    h('nav', { class: 'conversation-nav', 'aria-label': 'Conversation list' }, list, empty),
  );

  const renderHead = () => {
    const s = ctrl.state;
    region(head, `${s.me.displayName}|${s.myStatus}|${statusOf(s, s.me.id)}`, () => [
      avatar(s.me.id, s.me.displayName, statusOf(s, s.me.id), 36),
      h(
        'div',
        { class: 'me' },
        h('span', { class: 'me-name' }, s.me.displayName),
        h(
          'label',
          { class: 'status-select' },
          srOnly('Your status'),
          h(
            'select',
            {
              id: 'my-status',
              onchange: (event: Event) =>
                void ctrl.setStatus(
                  (event.target as HTMLSelectElement).value as 'online' | 'away' | 'invisible',
                ),
            },
            (['online', 'away', 'invisible'] as const).map((status) =>
              h(
                'option',
                { value: status, selected: s.myStatus === status },
                status === 'invisible' ? 'Invisible' : status === 'away' ? 'Away' : 'Online',
              ),
            ),
          ),
        ),
      ),
      h(
        'details',
        { class: 'menu' },
        h('summary', { 'aria-label': 'Account menu' }, '⋯'),
        h(
          'div',
          { class: 'menu-items' },
          h('button', { type: 'button', onclick: () => void ctrl.switchAccount() }, 'Switch account'),
          h('button', { type: 'button', id: 'logout', onclick: () => void ctrl.logout() }, 'Log out'),
        ),
      ),
    ]);
  };

  const render = (now: number) => {
    const s = ctrl.state;
    renderHead();
    const channels = sortChannels(s.channels);
    empty.hidden = channels.length > 0;
    const items: KeyedItem[] = channels.map((channel) => {
      const title = channelTitle(channel, s);
      const peer = peerOf(channel, s.me.id);
      const active = channel.id === s.activeId;
      const unread = active && ctrl.viewingBottom ? 0 : (channel.unread ?? 0);
      const typing = typingIn(s, channel.id);
      const preview = typing.length
        ? channel.kind === 'group'
          ? typingText(typing)
          : 'typing…'
        : previewText(channel.lastMessage, s.users, s.me.id, channel.kind === 'group');
      const when = channel.lastMessage?.createdAt ?? channel.createdAt;
      const presence = (peer && statusOf(s, peer)) ?? '';
      const sig = [title, preview, typing.length, unread, listTime(when, now), presence, active].join('|');
      return {
        key: channel.id,
        sig,
        render: () =>
          h(
            'li',
            null,
            h(
              'button',
              {
                type: 'button',
                class: `conv-item${active ? ' active' : ''}${unread ? ' unread' : ''}`,
                'aria-current': active ? 'true' : undefined,
                'data-channel': channel.id,
                onclick: () => actions.open(channel.id),
              },
              channelAvatar(channel, s),
              h(
                'span',
                { class: 'conv-main' },
                h(
                  'span',
                  { class: 'conv-top' },
                  h('span', { class: 'conv-name' }, title),
                  h('time', { datetime: new Date(when).toISOString() }, listTime(when, now)),
                ),
                h(
                  'span',
                  { class: 'conv-bottom' },
                  h('span', { class: `preview${typing.length ? ' typing-preview' : ''}` }, preview),
                  unread > 0
                    ? h(
                        'span',
                        { class: 'badge', 'aria-label': `${unread} unread` },
                        unread > 99 ? '99+' : unread,
                      )
                    : null,
                ),
                peer && presence ? srOnly(`, ${presence}`) : null,
              ),
            ),
          ),
      };
    });
    patchKeyed(list, items);
  };

  return { root, render };
}
