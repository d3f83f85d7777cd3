import type { MemberReceipt, PresenceInfo, SendHandle, UserProfile } from '@natter/client';
import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';
import { useChatStores } from './provider.js';
import type { ChannelsSnapshot } from './stores/channels.js';
import type { KitSendOptions } from './stores/chat-stores.js';
import type { ConnectionSnapshot } from './stores/connection.js';
import type { MessagesSnapshot } from './stores/messages.js';

/** The connection's status, why it last changed, and the signed-in user. */
export function useConnectionState(): ConnectionSnapshot {
  const { connection } = useChatStores();
  return useSyncExternalStore(connection.subscribe, connection.getSnapshot, connection.getSnapshot);
}

/** The user's channels, most recent activity first, with unread counts; current without polling. */
export function useChannels(): ChannelsSnapshot {
  const { channels } = useChatStores();
  return useSyncExternalStore(channels.subscribe, channels.getSnapshot, channels.getSnapshot);
}

/** A channel's messages with the actions on them. */
export type MessagesView = MessagesSnapshot & {
  /** Loads the page before the oldest row (call it when the list is scrolled near its top). */
  loadOlder(): Promise<void>;
  /** Sends a failed message again, in place. */
  retry(clientMsgId: string): void;
  /** Removes a pending or failed message. */
  discard(clientMsgId: string): Promise<void>;
  /** Shows the message with this `seq`: scrolls to it, loading a window around it when needed. */
  jumpTo(seq: number): Promise<void>;
  /** Back to the newest messages after a jump. */
  jumpToNewest(): Promise<void>;
  /** Loads the page after the newest row while an older window shows (`hasMoreAfter`). */
  loadNewer(): Promise<void>;
};

/**
 * A channel's messages: the cache at once, then the server's newest page; live; the user's pending and
 * failed sends in place. The returned object changes only when the list did, and rows that did not change
 * keep their objects, so `memo` rows re-render only for what changed.
 */
export function useMessages(channelId: string): MessagesView {
  const stores = useChatStores();
  const store = stores.messages(channelId);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  // The actions keep their identity per channel, so rows given them as props stay memoised.
  const actions = useMemo(
    () => ({
      loadOlder: () => store.loadOlder(),
      retry: (clientMsgId: string) => store.retry(clientMsgId),
      discard: (clientMsgId: string) => store.discard(clientMsgId),
      jumpTo: (seq: number) => store.jumpTo(seq),
      jumpToNewest: () => store.jumpToNewest(),
      loadNewer: () => store.loadNewer(),
    }),
    [store],
  );
  return useMemo(() => ({ ...snapshot, ...actions }), [snapshot, actions]);
}

/** Options of a send: mentions, a reply, a thread, uploads. */
export type SendOptions = KitSendOptions;

/**
 * A function that sends to a channel: the message is in the outbox (durable, resent until acknowledged)
 * and in `useMessages` (or, with `threadRoot`, in `useThread`) as `pending` before it returns, with its
 * reply quote and attachments. Throws at once for invalid input (empty, too large).
 */
export function useSend(channelId: string): (text: string, options?: SendOptions) => SendHandle {
  const stores = useChatStores();
  return useCallback(
    (text: string, options: SendOptions = {}) => stores.send(channelId, text, options),
    [stores, channelId],
  );
}

/** User ids of the people typing in a channel now (never the user). */
export function useTyping(channelId: string): readonly string[] {
  const { typing } = useChatStores();
  const select = useCallback(() => typing.typingIn(channelId), [typing, channelId]);
  return useSyncExternalStore(typing.subscribe, select, select);
}

/** A user's presence, fetched when first asked and then kept current; undefined until known. */
export function usePresence(userId: string | undefined): PresenceInfo | undefined {
  const { presence } = useChatStores();
  useEffect(() => {
    if (userId) presence.want([userId]);
  }, [presence, userId]);
  const select = useCallback(() => (userId ? presence.get(userId) : undefined), [presence, userId]);
  return useSyncExternalStore(presence.subscribe, select, select);
}

/** A user's profile (display name, username), fetched once; undefined until known. */
export function useUser(userId: string | undefined): UserProfile | undefined {
  const { users } = useChatStores();
  useEffect(() => {
    if (userId) users.want([userId]);
  }, [users, userId]);
  const select = useCallback(() => (userId ? users.get(userId) : undefined), [users, userId]);
  return useSyncExternalStore(users.subscribe, select, select);
}

/** Profiles of several users (a channel's members, say), by id; ones not loaded yet are missing. */
export function useUsers(userIds: readonly string[]): ReadonlyMap<string, UserProfile> {
  const { users } = useChatStores();
  const key = userIds.join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the ids' contents
  useEffect(() => {
    users.want(userIds);
  }, [users, key]);
  return useSyncExternalStore(users.subscribe, users.getSnapshot, users.getSnapshot);
}

/** Every member's read and delivery markers in a channel, current from `receipt` events. */
export function useReadReceipts(channelId: string): readonly MemberReceipt[] {
  const stores = useChatStores();
  const store = stores.receipts(channelId);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/**
 * A function that marks a channel read up to a `seq` (all the user's devices see it); the channel list's
 * unread count drops at once.
 */
export function useMarkRead(channelId: string): (seq: number) => Promise<void> {
  const stores = useChatStores();
  return useCallback(
    async (seq: number) => {
      stores.channels.markedRead(channelId, seq);
      await stores.client.markRead(channelId, seq);
    },
    [stores, channelId],
  );
}

/**
 * A function that shows a message of any channel (a search result, a mention): the channel's list scrolls
 * to it, loading a window around it when it is not loaded. Open the channel yourself.
 */
export function useJumpToMessage(): (channelId: string, seq: number) => Promise<void> {
  const stores = useChatStores();
  return useCallback((channelId: string, seq: number) => stores.messages(channelId).jumpTo(seq), [stores]);
}
