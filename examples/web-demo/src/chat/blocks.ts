/**
 * The people the user blocked, shared by the Info panel, the conversation (no composer, no presence) and
 * "Blocked people" in the account menu. Loaded once per client and changed only through `block` and
 * `unblock` here, which also refresh the person's presence: the server stops telling either side after a
 * block, so the last status seen must go, and after an unblock the current one comes back at once.
 */
import type { Block, ChatClient } from '@natter/client';
import { useChatClient, useChatStores } from '@natter/react';
import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';

/** The block list as the views see it. */
export type BlocksSnapshot =
  | { readonly phase: 'loading' }
  | { readonly phase: 'ready'; readonly blocks: readonly Block[] }
  | { readonly phase: 'error'; readonly error: unknown };

class BlockList {
  private snapshot: BlocksSnapshot = { phase: 'loading' };
  private readonly listeners = new Set<() => void>();
  private loading: Promise<void> | undefined;

  constructor(private readonly client: ChatClient) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): BlocksSnapshot => this.snapshot;

  /** Loads the list if it is not loaded (or failed); shared by every caller meanwhile. */
  load(force = false): Promise<void> {
    if (!force && (this.snapshot.phase === 'ready' || this.loading)) return this.loading ?? Promise.resolve();
    this.loading = this.client.blocks().then(
      (blocks) => this.set({ phase: 'ready', blocks }),
      (error: unknown) => {
        if (this.snapshot.phase !== 'ready') this.set({ phase: 'error', error });
      },
    );
    void this.loading.finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private set(next: BlocksSnapshot): void {
    this.snapshot = next;
    for (const listener of this.listeners) listener();
  }
}

const lists = new WeakMap<ChatClient, BlockList>();

function listOf(client: ChatClient): BlockList {
  let list = lists.get(client);
  if (!list) {
    list = new BlockList(client);
    lists.set(client, list);
  }
  return list;
}

/** The user's blocks, with block and unblock (each settles once the server answered and the list is current). */
export interface BlocksView {
  snapshot: BlocksSnapshot;
  /** Whether the user blocked this person (false while loading). */
  isBlocked(userId: string): boolean;
  block(userId: string): Promise<void>;
  unblock(userId: string): Promise<void>;
}

/** The user's block list, loaded on first use. */
export function useBlocks(): BlocksView {
  const client = useChatClient();
  const { presence } = useChatStores();
  const list = listOf(client);
  const snapshot = useSyncExternalStore(list.subscribe, list.getSnapshot, list.getSnapshot);
  useEffect(() => {
    void list.load();
  }, [list]);
  const change = useCallback(
    async (userId: string, call: Promise<void>) => {
      await call;
      await Promise.all([list.load(true), presence.refresh([userId]).catch(() => undefined)]);
    },
    [list, presence],
  );
  return useMemo(() => {
    const ids = new Set(snapshot.phase === 'ready' ? snapshot.blocks.map((b) => b.userId) : []);
    return {
      snapshot,
      isBlocked: (userId) => ids.has(userId),
      block: (userId) => change(userId, client.block(userId)),
      unblock: (userId) => change(userId, client.unblock(userId)),
    };
  }, [snapshot, change, client]);
}
