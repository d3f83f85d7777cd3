import type { MutationResult, SendHandle } from '@natter/client';
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { SendOptions } from './hooks.js';
import { useChatStores } from './provider.js';
import type { ChannelUi } from './stores/channel-ui.js';
import type { ThreadSnapshot } from './stores/thread.js';

/** Changes to a channel's stored messages; each shows in every list at once (the answer is applied). */
export interface MessageActions {
  /** Replaces the text (and mentions) of one of the user's messages. */
  edit(seq: number, text: string, options?: { mentions?: readonly string[] }): Promise<MutationResult>;
  /** Deletes a message for everyone (the user's own; any, for a group admin): it becomes a tombstone. */
  remove(seq: number): Promise<MutationResult>;
  /** Adds the user's reaction (`add`, the default) or removes it. */
  react(seq: number, emoji: string, add?: boolean): Promise<MutationResult>;
}

/**
 * Edit, delete and react on a channel's messages. They need the connection (offline they reject with
 * `NATTER_UNAVAILABLE`); the answer's change is applied to every list and thread at once, and the same
 * change arriving later through sync is not applied twice.
 */
export function useMessageActions(channelId: string): MessageActions {
  const stores = useChatStores();
  return useMemo(() => {
    const applied = async (result: Promise<MutationResult>) => {
      const answer = await result;
      stores.feed.applyOwn(answer);
      return answer;
    };
    const { client } = stores;
    return {
      edit: (seq, text, options = {}) => applied(client.edit(channelId, seq, text, options)),
      remove: (seq) => applied(client.delete(channelId, seq)),
      react: (seq, emoji, add = true) => applied(client.react(channelId, seq, emoji, add)),
    };
  }, [stores, channelId]);
}

/** Who reacted with one emoji, loaded when asked. */
export type ReactorsState =
  | { readonly status: 'idle' | 'loading' }
  | { readonly status: 'done'; readonly userIds: readonly string[]; readonly hasMore: boolean }
  | { readonly status: 'error'; readonly error: Error };

/**
 * The users who reacted to a message with `emoji` (the first page), fetched while `enabled` (say, while
 * the reaction is hovered or focused) and again when `count` changes.
 */
export function useReactors(
  channelId: string,
  seq: number,
  emoji: string,
  enabled: boolean,
  count?: number,
): ReactorsState {
  const { client } = useChatStores();
  const [state, setState] = useState<ReactorsState>({ status: 'idle' });
  // biome-ignore lint/correctness/useExhaustiveDependencies: `count` is a refetch trigger
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    setState((s) => (s.status === 'done' ? s : { status: 'loading' }));
    client.reactors(channelId, seq, emoji, { limit: 20 }).then(
      ({ userIds, hasMore }) => live && setState({ status: 'done', userIds, hasMore }),
      (err: unknown) =>
        live && setState({ status: 'error', error: err instanceof Error ? err : new Error(String(err)) }),
    );
    return () => {
      live = false;
    };
  }, [client, channelId, seq, emoji, enabled, count]);
  return state;
}

/** A thread with the actions on it. */
export type ThreadView = ThreadSnapshot & {
  /** Loads the page of replies before the oldest shown. */
  loadOlder(): Promise<void>;
  /** Sends a reply into the thread (through the outbox; pending at once). */
  send(text: string, options?: Omit<SendOptions, 'threadRoot' | 'replyTo'>): SendHandle;
  /** Sends a failed reply again, in place. */
  retry(clientMsgId: string): void;
  /** Removes a pending or failed reply. */
  discard(clientMsgId: string): Promise<void>;
};

/**
 * A thread of a channel: its root (with the reply count) and its replies, the newest page first, then live;
 * the user's replies pending in place. Shares the channel's edits, deletes and reactions.
 */
export function useThread(channelId: string, rootSeq: number): ThreadView {
  const stores = useChatStores();
  const store = stores.thread(channelId, rootSeq);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const actions = useMemo(
    () => ({
      loadOlder: () => store.loadOlder(),
      send: (text: string, options: Omit<SendOptions, 'threadRoot' | 'replyTo'> = {}) =>
        stores.send(channelId, text, { ...options, threadRoot: rootSeq }),
      retry: (clientMsgId: string) => store.showPending(stores.client.retry(clientMsgId).message),
      discard: async (clientMsgId: string) => {
        await stores.client.discard(clientMsgId);
      },
    }),
    [store, stores, channelId, rootSeq],
  );
  return useMemo(() => ({ ...snapshot, ...actions }), [snapshot, actions]);
}

/** A channel's UI state with its setters. */
export type ChannelUiView = ChannelUi & {
  /** Starts editing the message with `seq` inline (`undefined` stops). */
  edit(seq: number | undefined): void;
  /** Makes the composer's next send a reply to `seq` (`undefined` cancels). */
  replyTo(seq: number | undefined): void;
  /** Opens the thread of `seq` in the thread panel (`undefined` closes it). */
  openThread(seq: number | undefined): void;
};

/**
 * What the user is doing in a channel: the message edited inline, the one the composer answers, the open
 * thread. The kit's components share it (the composer's up arrow starts an edit in the list; a row's
 * "Reply" fills the composer's banner); apps read `thread` to show a `Thread` panel.
 */
export function useChannelUi(channelId: string): ChannelUiView {
  const { ui } = useChatStores();
  const select = useCallback(() => ui.of(channelId), [ui, channelId]);
  const state = useSyncExternalStore(ui.subscribe, select, select);
  return useMemo(
    () => ({
      ...state,
      edit: (seq: number | undefined) => ui.update(channelId, { editing: seq }),
      replyTo: (seq: number | undefined) => ui.update(channelId, { replyingTo: seq }),
      openThread: (seq: number | undefined) => ui.update(channelId, { thread: seq }),
    }),
    [state, ui, channelId],
  );
}

/** The setters of a channel's UI state alone: they never re-render the caller. */
export function useChannelUiActions(channelId: string): Omit<ChannelUiView, keyof ChannelUi> {
  const { ui } = useChatStores();
  return useMemo(
    () => ({
      edit: (seq: number | undefined) => ui.update(channelId, { editing: seq }),
      replyTo: (seq: number | undefined) => ui.update(channelId, { replyingTo: seq }),
      openThread: (seq: number | undefined) => ui.update(channelId, { thread: seq }),
    }),
    [ui, channelId],
  );
}

/** True while the thread of `seq` is open (re-renders only when that flips). */
export function useIsThreadOpen(channelId: string, seq: number): boolean {
  const { ui } = useChatStores();
  const select = useCallback(() => ui.of(channelId).thread === seq, [ui, channelId, seq]);
  return useSyncExternalStore(ui.subscribe, select, select);
}

/** True while the message with `seq` is edited inline (a row re-renders only when its own flag flips). */
export function useIsEditing(channelId: string, seq: number | undefined): boolean {
  const { ui } = useChatStores();
  const select = useCallback(
    () => seq !== undefined && ui.of(channelId).editing === seq,
    [ui, channelId, seq],
  );
  return useSyncExternalStore(ui.subscribe, select, select);
}
