import type { ChatClient, Message, PendingMessage } from '@natter/client';
import { ExternalStore, unsubscribeAll } from './external-store.js';
import { replacedMessage, withReaction, withThreadReply } from './lifecycle.js';
import { applyPending, type MessageItems, mergeMessages, oldestSeq } from './message-items.js';
import type { OlderPage } from './messages.js';
import { applyChange, type SharedParts } from './messages.js';

/** What every phase of a thread has. */
interface ThreadCommon {
  /** The thread's root message, once known (a tombstone if it was deleted). */
  readonly root: Message | undefined;
  /** The replies by `seq`, then the user's pending ones. */
  readonly items: MessageItems;
  readonly hasMoreBefore: boolean;
  readonly olderPage: OlderPage;
}

/** One thread, as a union of where loading stands. */
export type ThreadSnapshot =
  | (ThreadCommon & { readonly phase: 'loading' })
  | (ThreadCommon & { readonly phase: 'ready' })
  /** The root or the first page could not be read (not a member, no such message, offline). */
  | (ThreadCommon & { readonly phase: 'error'; readonly error: Error });

const EMPTY: MessageItems = Object.freeze([]);

/**
 * One thread of a channel: its root and the newest page of replies (older pages on demand), then live
 * replies, edits, deletes and reactions, and the user's pending replies in place.
 */
export class ThreadStore extends ExternalStore<ThreadSnapshot> {
  private readonly offs: Array<() => void> = [];
  private generation = 0;

  constructor(
    private readonly client: ChatClient,
    readonly channelId: string,
    readonly rootSeq: number,
    private readonly pageSize: number,
    private readonly shared: SharedParts,
  ) {
    super(
      Object.freeze({
        phase: 'loading',
        root: undefined,
        items: EMPTY,
        hasMoreBefore: false,
        olderPage: 'idle',
      }),
    );
  }

  protected activate(): void {
    const inThread = (message: Message) =>
      message.channelId === this.channelId && message.threadRoot === this.rootSeq;
    this.offs.push(
      this.client.on('message', ({ message }) => {
        if (!inThread(message)) return;
        const root = this.getSnapshot().root;
        this.patch({
          items: mergeMessages(this.getSnapshot().items, [message]),
          ...(root ? { root: withThreadReply(root, message) } : {}),
        });
      }),
      this.client.on('ack', ({ message }) => {
        if (inThread(message)) this.patch({ items: mergeMessages(this.getSnapshot().items, [message]) });
      }),
      this.client.on('outbox', ({ message }) => this.showPending(message)),
      this.shared.feed.subscribe((change) => {
        if (change.channelId !== this.channelId) return;
        const { root, items } = this.getSnapshot();
        const changedSeq = change.kind === 'reaction' ? change.seq : change.message.seq;
        let nextRoot = root;
        if (root && changedSeq === this.rootSeq)
          nextRoot =
            change.kind === 'reaction'
              ? withReaction(root, change, this.client.userId)
              : replacedMessage(root, change.message);
        this.patch({ root: nextRoot, items: applyChange(items, change, this.client.userId) });
      }),
      this.client.on('resync', () => void this.load()),
    );
    void this.load();
  }

  protected deactivate(): void {
    unsubscribeAll(this.offs);
    this.generation++;
  }

  /** Shows a reply `send()` or `retry()` just queued, before its first outbox event. */
  showPending(message: PendingMessage): void {
    const extras = this.shared.extras.get(message.clientMsgId);
    if (message.channelId !== this.channelId || extras?.threadRoot !== this.rootSeq) return;
    this.patch({ items: applyPending(this.getSnapshot().items, message, extras) });
  }

  /** Loads the page of replies before the oldest shown. */
  async loadOlder(): Promise<void> {
    const current = this.getSnapshot();
    const before = oldestSeq(current.items);
    if (current.phase !== 'ready' || !current.hasMoreBefore || current.olderPage === 'loading') return;
    if (before === undefined) return;
    const generation = this.generation;
    this.patch({ olderPage: 'loading' });
    try {
      const page = await this.client.threadHistory(this.channelId, this.rootSeq, {
        before,
        limit: this.pageSize,
      });
      if (generation !== this.generation) return;
      this.patch({
        items: mergeMessages(this.getSnapshot().items, page.messages),
        hasMoreBefore: page.hasMoreBefore,
        olderPage: 'idle',
      });
    } catch {
      if (generation === this.generation) this.patch({ olderPage: 'error' });
    }
  }

  /** The root (from history around it) and the newest replies; the user's pending replies in place. */
  private async load(): Promise<void> {
    const generation = ++this.generation;
    this.patch({ items: this.withPending(this.getSnapshot().items) });
    try {
      const [around, page] = await Promise.all([
        this.client.history(this.channelId, { around: this.rootSeq, limit: 1 }),
        this.client.threadHistory(this.channelId, this.rootSeq, { limit: this.pageSize }),
      ]);
      if (generation !== this.generation) return;
      this.set(
        Object.freeze({
          phase: 'ready',
          root: around.messages.find((m) => m.seq === this.rootSeq),
          items: mergeMessages(this.withPending(this.getSnapshot().items), page.messages),
          hasMoreBefore: page.hasMoreBefore,
          olderPage: 'idle',
        }),
      );
    } catch (err) {
      if (generation !== this.generation) return;
      this.set(
        Object.freeze({
          ...this.getSnapshot(),
          phase: 'error',
          error: err instanceof Error ? err : new Error(String(err)),
        }),
      );
    }
  }

  /** The rows with the user's pending replies of this thread (sent through the kit) in place. */
  private withPending(items: MessageItems): MessageItems {
    let next = items;
    for (const message of this.client.pending()) {
      const extras = this.shared.extras.get(message.clientMsgId);
      if (message.channelId === this.channelId && extras?.threadRoot === this.rootSeq)
        next = applyPending(next, message, extras);
    }
    return next;
  }

  private patch(change: Partial<ThreadCommon>): void {
    const current = this.getSnapshot();
    const changed = (Object.keys(change) as Array<keyof ThreadCommon>).some((k) => change[k] !== current[k]);
    if (changed) this.set(Object.freeze({ ...current, ...change }) as ThreadSnapshot);
  }
}
