/** Small pieces shared by the views: avatars, presence dots, channel titles. */
import type { CachedChannel, PresenceInfo, UserProfile } from '@natter/client';
import { h } from '../dom.js';
import { hueOf, initials, nameOf } from '../format.js';
import type { AppState } from '../state.js';

/** A round avatar with initials, optionally with a presence dot. */
export function avatar(id: string, name: string, presence?: PresenceInfo['status'], size = 40): HTMLElement {
  return h(
    'span',
    { class: 'avatar', style: `--hue:${hueOf(id)};--size:${size}px`, 'aria-hidden': 'true' },
    initials(name),
    presence ? h('span', { class: `dot ${presence}` }) : null,
  );
}

/** The other member of a 1-1 conversation. */
export function peerOf(channel: CachedChannel, me: string): string | undefined {
  return channel.kind === 'direct' ? channel.memberIds.find((id) => id !== me) : undefined;
}

/** A conversation's title: the group name, or the other person's name. */
export function channelTitle(channel: CachedChannel, state: AppState): string {
  if (channel.kind === 'group') return channel.name ?? 'Group';
  const peer = peerOf(channel, state.me.id);
  return peer ? nameOf(state.users, peer) : 'Conversation';
}

/** Whether presence is current: it is pushed over the connection, so it goes stale while disconnected. */
export function presenceKnown(state: AppState): boolean {
  return state.networkOnline && state.connection === 'open';
}

/** The presence status of a user as others see it; `undefined` while it is not known (disconnected). */
export function statusOf(state: AppState, userId: string): PresenceInfo['status'] | undefined {
  if (!presenceKnown(state)) return undefined;
  if (userId === state.me.id) return state.myStatus === 'invisible' ? 'offline' : state.myStatus;
  return state.presence.get(userId)?.status ?? 'offline';
}

/** An avatar for a conversation: the peer (with presence) or the group. */
export function channelAvatar(channel: CachedChannel, state: AppState, size = 40): HTMLElement {
  const peer = peerOf(channel, state.me.id);
  if (peer) return avatar(peer, nameOf(state.users, peer), statusOf(state, peer), size);
  return avatar(channel.id, channel.name ?? 'Group', undefined, size);
}

/** Text only screen readers read. */
export function srOnly(text: string): HTMLElement {
  return h('span', { class: 'sr-only' }, text);
}

/** A user's name with their username. */
export function userLine(user: UserProfile): HTMLElement {
  return h(
    'span',
    { class: 'user-line' },
    h('span', { class: 'user-name' }, user.displayName),
    h('span', { class: 'user-handle' }, `@${user.username}`),
  );
}
