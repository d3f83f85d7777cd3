/** Small hooks and helpers the demo's views share, on top of the kit's hooks. */
import { isNatterError, type PresenceInfo } from '@natter/client';
import {
  type ChannelView,
  useChannels,
  useChatClient,
  useChatStores,
  useConnectionState,
} from '@natter/react';
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';

/** A readable sentence for an error of a user action. */
export function describeError(err: unknown): string {
  const code = isNatterError(err) ? err.code : (err as { code?: string } | undefined)?.code;
  switch (code) {
    case 'NATTER_GROUP_FULL':
      return 'That would make the group larger than its member limit.';
    case 'NATTER_FORBIDDEN':
      return 'You are not allowed to do that (only group admins can remove or ban members).';
    case 'NATTER_NOT_FOUND':
      return 'Not found, or you are no longer a member.';
    case 'NATTER_UNAVAILABLE':
      return 'The server cannot be reached right now. Try again when you are back online.';
    case 'NATTER_MESSAGE_TOO_LARGE':
      return 'That message is too long.';
    case 'NATTER_RATE_LIMITED':
      return 'Slow down a little and try again.';
    case 'NATTER_RECIPIENT_UNAVAILABLE':
      return 'This person is not taking messages.';
    case 'NATTER_USER_BANNED':
      return 'That person is banned from this group. An admin must unban them first.';
    case 'NATTER_SLOW_MODE':
      return 'Slow mode is on: wait for your turn.';
    default:
      return err instanceof Error ? err.message : 'Something went wrong.';
  }
}

/** "1 member", "3 members". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The browser's idea of the network (`navigator.onLine` and its events). */
export function useNetworkOnline(): boolean {
  return useSyncExternalStore(
    (listener) => {
      window.addEventListener('online', listener);
      window.addEventListener('offline', listener);
      return () => {
        window.removeEventListener('online', listener);
        window.removeEventListener('offline', listener);
      };
    },
    () => navigator.onLine,
  );
}

/** Messages waiting in the outbox (not failed), current from `outbox` events. */
export function usePendingCount(): number {
  const client = useChatClient();
  const count = useCallback(() => client.pending().filter((p) => p.status !== 'failed').length, [client]);
  const [n, setN] = useState(count);
  useEffect(() => {
    setN(count());
    return client.on('outbox', () => setN(count()));
  }, [client, count]);
  return n;
}

/** One channel of the list, if the user is in it. */
export function useChannel(channelId: string | undefined): ChannelView | undefined {
  const { channels } = useChannels();
  return channelId ? channels.find((c) => c.channel.id === channelId) : undefined;
}

/** Presence of several users (a group's members), fetched when first asked and kept current. */
export function usePresenceOf(userIds: readonly string[]): ReadonlyMap<string, PresenceInfo> {
  const { presence } = useChatStores();
  const key = userIds.join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the ids' contents
  useEffect(() => {
    if (userIds.length > 0) presence.want(userIds);
  }, [presence, key]);
  return useSyncExternalStore(presence.subscribe, presence.getSnapshot, presence.getSnapshot);
}

/** A value that changes every `ms` (for "last seen 5 min ago" and countdowns). */
export function useNow(ms = 1_000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** The connection is open and the network up: presence shown is current (it goes stale while offline). */
export function usePresenceKnown(): boolean {
  const online = useNetworkOnline();
  const { status } = useConnectionState();
  return online && status === 'open';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** "online", "away", "last seen 5 min ago", "last seen yesterday at 14:05", or "offline". */
export function presenceLabel(info: PresenceInfo | undefined, now: number): string {
  if (!info) return 'offline';
  if (info.status === 'online') return 'online';
  if (info.status === 'away') return 'away';
  if (info.lastActiveAt === null) return 'offline';
  const elapsed = Math.max(0, now - info.lastActiveAt);
  if (elapsed < MINUTE) return 'last seen just now';
  if (elapsed < HOUR) return `last seen ${Math.floor(elapsed / MINUTE)} min ago`;
  if (elapsed < 24 * HOUR) return `last seen ${Math.floor(elapsed / HOUR)} h ago`;
  return `last seen on ${new Date(info.lastActiveAt).toLocaleDateString()}`;
}
