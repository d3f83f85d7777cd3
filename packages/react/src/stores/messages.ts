import type { ChatClient, Message, SendHandle } from '@natter/client';
import type { EncryptedEntries } from './encrypted-entries.js';
import { ExternalStore, unsubscribeAll } from './external-store.js';
import { indexOfSeq, replacedMessage, updateMessage, withReaction, withThreadReply } from './lifecycle.js';
import type { LifecycleChange, LifecycleFeed } from './lifecycle-feed.js';
import {
  applyPending,
  dropBefore,
  isOlder,
  type MessageItems,
  mergeMessages,
  newestSeq,
  oldestSeq,
  type SendExtras,
} from './message-items.js';

/** Loading older messages: nothing asked, in flight, or the last attempt failed (try again). */
export type OlderPage = 'idle' | 'loading' | 'error';

/** A message the list should scroll to (after `jumpTo`); `nonce` makes jumping to it twice scroll twice. */
export interface MessageFocus {
  readonly seq: number;
  readonly nonce: number;
}

/** What every phase of a channel's list has. */
interface MessagesCommon {
  readonly items: MessageItems;
  readonly hasMoreBefore: boolean;
  /** True while showing an older window (after `jumpTo`): newer messages exist that are not in `items`. */
  readonly hasMoreAfter: boolean;
  readonly olderPage: OlderPage;
  readonly focus: MessageFocus | undefined;
}

/** One channel's message list, as a union of where loading stands. */
export type MessagesSnapshot =
  /** Nothing to show yet: neither the cache nor the server has answered. */
  | (MessagesCommon & { readonly phase: 'loading' })
  /** Rows to show; `source` says whether the server has confirmed the newest page since this store started. */
  | (MessagesCommon & { readonly phase: 'ready'; readonly source: 'cache' | 'server' })
  /** The first load failed for a reason that retrying does not fix (not a member, say). */
  | (MessagesCommon & { readonly phase: 'error'; readonly error: Error });

const EMPTY: MessageItems = Object.freeze([]);
/** How long, and how many, of the user's own changes are applied again over pages that arrive late. */
const RECENT_MS = 60_000;
const RECENT_MAX = 100;
const INITIAL: MessagesSnapshot = Object.freeze({
  phase: 'loading',
  items: EMPTY,
  hasMoreBefore: false,
  hasMoreAfter: false,
  olderPage: 'idle',
  focus: undefined,
});

/** Options of a channel's message store. */
export interface MessagesStoreOptions {
  /** Messages per page, for the first page and for each older one. @default 50 */
  pageSize?: number;
}

/** What the stores of one client share: the lifecycle feed and the extras of the kit's pending sends. */
export interface SharedParts {
  readonly feed: LifecycleFeed;
  readonly extras: ReadonlyMap<string, SendExtras>;
  /** What this device decrypted (or failed to) of encrypted channels, shown in place of the ciphertext. */
  readonly encrypted: EncryptedEntries;
}

/**
 * One channel's messages: the cache at once, then the server's newest page, then live entries (new
 * messages, edits, deletes as tombstones, reactions, thread counters), the user's pending and failed sends
 * in place, and older pages on demand. Thread replies are rows too (`message.threadRoot` set), so the rows
 * stay contiguous by `seq`; `MessageList` shows them only in their thread. Every change is a new frozen
 * snapshot.
 */
export class MessagesStore extends ExternalStore<MessagesSnapshot> {
  private readonly offs: Array<() => void> = [];
  private readonly pageSize: number;
  /** Bumped on every (re)load, so an answer for an earlier load is dropped. */
  private generation = 0;
  /**
   * The latest changes that are safe to apply twice (the user's own reactions, edits and deletes, which
   * are guarded by `me` and by `version`), applied again over every page merged: a page read before such
   * a change can arrive after it and would otherwise take it back. Others' reactions are not kept: the
   * page may or may not count them already, and the page is the server's word.
   */
  private recent: Array<{ change: LifecycleChange; at: number }> = [];

  constructor(
    private readonly client: ChatClient,
    readonly channelId: string,
    options: MessagesStoreOptions,
    private readonly shared: SharedParts,
  ) {
    super(INITIAL);
    this.pageSize = options.pageSize ?? 50;
  }

  protected activate(): void {
    // Rows kept from an earlier visit may be an older window (after a jump): start from the newest again.
    if (this.getSnapshot().hasMoreAfter) this.set(INITIAL);
    const mine = (channelId: string) => channelId === this.channelId;
    this.offs.push(
      this.client.on('message', ({ message }) => {
        // An older window (after a jump) does not grow at its end: the newest come back with jumpToNewest.
        if (!mine(message.channelId)) return;
        if (message.threadRoot !== undefined) this.countThreadReply(message);
        if (!this.getSnapshot().hasMoreAfter) this.addMessages([message]);
      }),
      this.client.on('ack', ({ message }) => {
        if (mine(message.channelId)) this.addMessages([message]);
      }),
      this.client.on('outbox', ({ message }) => {
        if (mine(message.channelId))
          this.update(
            applyPending(this.getSnapshot().items, message, this.shared.extras.get(message.clientMsgId)),
          );
      }),
      this.shared.feed.subscribe((change) => {
        if (!mine(change.channelId)) return;
        this.remember(change);
        this.update(applyChange(this.getSnapshot().items, change, this.client.userId));
      }),
      this.client.on('resync', () => {
        this.set(INITIAL);
        void this.load();
      }),
      // An entry this device cannot read shows a placeholder in its place (the entry itself never came
      // as a message event: only the server's page has it).
      this.shared.encrypted.onFailure((event) => {
        if (mine(event.channelId)) void this.showUnreadable(event.seq);
      }),
    );
    void this.load();
  }

  protected deactivate(): void {
    unsubscribeAll(this.offs);
    this.generation++;
  }

  /** The stored message with `seq`, if it is loaded. */
  find(seq: number): Message | undefined {
    const item = this.getSnapshot().items[indexOfSeq(this.getSnapshot().items, seq)];
    return item?.status === 'sent' ? item.message : undefined;
  }

  /** Shows a message `send()` or `retry()` just queued, before its first outbox event. */
  addPending(handle: SendHandle): void {
    if (handle.message.channelId !== this.channelId) return;
    // A send while an older window shows brings the newest back, where the message will be.
    if (this.getSnapshot().hasMoreAfter) void this.jumpToNewest();
    const extras = this.shared.extras.get(handle.message.clientMsgId);
    this.update(applyPending(this.getSnapshot().items, handle.message, extras));
  }

  /**
   * Shows a message: scrolls to it when it is loaded, else replaces the rows with a window around it (the
   * newest come back with {@link MessagesStore.jumpToNewest} or by scrolling down).
   */
  async jumpTo(seq: number): Promise<void> {
    const current = this.getSnapshot();
    const nonce = (current.focus?.nonce ?? 0) + 1;
    const loaded = current.items.some((item) => item.status === 'sent' && item.message.seq === seq);
    if (loaded) {
      this.set(Object.freeze({ ...current, focus: { seq, nonce } }));
      return;
    }
    const generation = ++this.generation;
    const page = await this.client.history(this.channelId, { around: seq, limit: this.pageSize });
    if (generation !== this.generation) return;
    const pending = this.getSnapshot().items.filter((item) => item.status !== 'sent');
    const items = this.merged(pending, page.messages, 'merge');
    this.set(
      Object.freeze({
        phase: 'ready',
        source: page.source,
        items,
        hasMoreBefore: hasMoreBefore(items),
        hasMoreAfter: page.hasMoreAfter,
        olderPage: 'idle',
        focus: { seq, nonce },
      }),
    );
  }

  /** Back to the newest messages after a jump (cache first, as on opening). */
  async jumpToNewest(): Promise<void> {
    if (!this.getSnapshot().hasMoreAfter) return;
    const pending = this.getSnapshot().items.filter((item) => item.status !== 'sent');
    this.set(Object.freeze({ ...INITIAL, items: pending }));
    await this.load();
  }

  /** Loads the page after the newest row, while an older window shows. */
  async loadNewer(): Promise<void> {
    const current = this.getSnapshot();
    if (current.phase !== 'ready' || !current.hasMoreAfter || current.olderPage === 'loading') return;
    const after = newestSeq(current.items);
    if (after === undefined) return;
    const generation = this.generation;
    try {
      const page = await this.client.history(this.channelId, { after, limit: this.pageSize });
      if (generation !== this.generation) return;
      const items = this.merged(this.getSnapshot().items, page.messages, 'merge');
      this.set(Object.freeze({ ...this.getSnapshot(), items, hasMoreAfter: page.hasMoreAfter }));
    } catch {
      // Scrolling down again retries.
    }
  }

  /** Loads the page before the oldest row shown; does nothing while one loads or when there is none. */
  async loadOlder(): Promise<void> {
    const current = this.getSnapshot();
    if (current.phase !== 'ready' || !current.hasMoreBefore || current.olderPage === 'loading') return;
    const before = oldestSeq(current.items);
    if (before === undefined) return;
    const generation = this.generation;
    this.set(Object.freeze({ ...current, olderPage: 'loading' }));
    try {
      const page = await this.client.history(this.channelId, { before, limit: this.pageSize });
      if (generation !== this.generation) return;
      const items = this.merged(this.getSnapshot().items, page.messages, 'merge');
      this.set(
        Object.freeze({
          ...this.getSnapshot(),
          items,
          hasMoreBefore: hasMoreBefore(items),
          olderPage: 'idle',
        }),
      );
    } catch {
      if (generation === this.generation)
        this.set(Object.freeze({ ...this.getSnapshot(), olderPage: 'error' }));
    }
  }

  /** Sends a failed message again; its row stays where it is. */
  retry(clientMsgId: string): void {
    this.addPending(this.client.retry(clientMsgId));
  }

  /** Removes a pending or failed message (from the outbox and the list). */
  async discard(clientMsgId: string): Promise<void> {
    await this.client.discard(clientMsgId);
  }

  /** Cache first, then the server's newest page; the user's outbox messages of the channel in place. */
  private async load(): Promise<void> {
    const generation = ++this.generation;
    const pending = this.client.pending().filter((m) => m.channelId === this.channelId);
    const withExtras = (message: (typeof pending)[number]) => this.shared.extras.get(message.clientMsgId);
    let items = this.getSnapshot().items;
    for (const message of pending) items = applyPending(items, message, withExtras(message));
    try {
      const cached = await this.client.cachedMessages(this.channelId, { limit: this.pageSize });
      if (generation !== this.generation) return;
      items = this.merged(this.getSnapshot().items, cached, 'join');
      for (const message of pending) items = applyPending(items, message, withExtras(message));
      if (cached.length > 0) this.showReady(items, 'cache');
      else this.update(items);
    } catch {
      // The cache is an optimisation: the server's page below is what counts.
    }
    try {
      const page = await this.client.history(this.channelId, { limit: this.pageSize });
      if (generation !== this.generation) return;
      this.showReady(this.merged(this.getSnapshot().items, page.messages, 'join'), page.source);
    } catch (err) {
      if (generation !== this.generation) return;
      const current = this.getSnapshot();
      if (current.phase === 'ready') return;
      this.set(
        Object.freeze({
          ...current,
          phase: 'error',
          error: err instanceof Error ? err : new Error(String(err)),
          hasMoreBefore: hasMoreBefore(current.items),
        }),
      );
    }
  }

  private showReady(items: MessageItems, source: 'cache' | 'server'): void {
    const current = this.getSnapshot();
    const confirmed = current.phase === 'ready' && current.source === 'server' ? 'server' : source;
    this.set(
      Object.freeze({
        phase: 'ready',
        source: confirmed,
        items,
        hasMoreBefore: hasMoreBefore(items),
        hasMoreAfter: false,
        olderPage: current.olderPage,
        focus: current.focus,
      }),
    );
  }

  private remember(change: LifecycleChange): void {
    if (change.kind === 'reaction' && change.userId !== this.client.userId) return;
    const now = Date.now();
    this.recent = this.recent.filter((r) => now - r.at < RECENT_MS).slice(-RECENT_MAX + 1);
    this.recent.push({ change, at: now });
  }

  /** Rows with a page merged, and the recent safe changes applied again over it. */
  /** Shows the placeholder of an unreadable entry: in its row when loaded, else read from the server. */
  private async showUnreadable(seq: number): Promise<void> {
    const items = this.getSnapshot().items;
    const row = items[indexOfSeq(items, seq)];
    if (row?.status === 'sent') {
      this.update(updateMessage(items, seq, (m) => this.shared.encrypted.resolve(m)));
      return;
    }
    if (this.getSnapshot().hasMoreAfter) return;
    const generation = this.generation;
    try {
      const page = await this.client.history(this.channelId, { after: seq - 1, limit: 1 });
      if (generation !== this.generation || this.getSnapshot().hasMoreAfter) return;
      this.addMessages(page.messages.filter((m) => m.seq === seq));
    } catch {
      // Offline: the next page read shows the placeholder.
    }
  }

  private merged(items: MessageItems, fetched: readonly Message[], join: 'join' | 'merge'): MessageItems {
    const page = fetched.map((m) => this.shared.encrypted.resolve(m));
    let next = join === 'join' ? joinNewest(items, page) : mergeMessages(items, page);
    for (const { change } of this.recent) next = applyChange(next, change, this.client.userId);
    return next;
  }

  /** A new thread reply raises its root's counter (when the root is loaded). */
  private countThreadReply(reply: Message): void {
    const root = reply.threadRoot;
    if (root === undefined) return;
    this.update(updateMessage(this.getSnapshot().items, root, (m) => withThreadReply(m, reply)));
  }

  private addMessages(messages: readonly Message[]): void {
    const shown = messages.map((m) => this.shared.encrypted.resolve(m));
    this.update(mergeMessages(this.getSnapshot().items, shown));
  }

  /** New rows with the phase kept (a live message before the first load finished stays `loading`). */
  private update(items: MessageItems): void {
    const current = this.getSnapshot();
    if (items === current.items) return;
    this.set(Object.freeze({ ...current, items, hasMoreBefore: hasMoreBefore(items) }));
  }
}

/**
 * Applies an edit, delete or reaction to the rows: the message's own row, and for edits and deletes the
 * quotes of replies to it (a reply shows its parent as it is now).
 */
export function applyChange(
  items: MessageItems,
  change: LifecycleChange,
  me: string | undefined,
): MessageItems {
  if (change.kind === 'reaction') return updateMessage(items, change.seq, (m) => withReaction(m, change, me));
  const { message } = change;
  const deleted = message.deletedAt !== undefined;
  let next = updateMessage(items, message.seq, (current) => {
    const same =
      (current.version ?? 1) === (message.version ?? 1) && (current.deletedAt !== undefined) === deleted;
    return same || isOlder(message, current) ? current : replacedMessage(current, message);
  });
  const text = deleted ? '' : message.text;
  for (const item of next) {
    if (item.status !== 'sent' || item.message.replyTo !== message.seq) continue;
    const preview = item.message.replyPreview;
    if (!preview || (preview.text === text && preview.deleted === deleted)) continue;
    next = updateMessage(next, item.message.seq, (reply) => ({
      ...reply,
      replyPreview: { senderId: message.senderId, text, deleted },
    }));
  }
  return next;
}

/**
 * Adds the newest page to the rows. Rows that do not reach the page (kept from an earlier visit, or a cache
 * that was behind) are dropped first, so the list never shows a hole.
 */
function joinNewest(items: MessageItems, page: readonly Message[]): MessageItems {
  const first = page[0];
  const shownNewest = newestSeq(items);
  const joined =
    first && shownNewest !== undefined && first.seq > shownNewest + 1 ? dropBefore(items, first.seq) : items;
  return mergeMessages(joined, page);
}

/** Sequences are gap-free from 1, so rows reach the start exactly when the oldest has `seq` 1. */
function hasMoreBefore(items: MessageItems): boolean {
  const oldest = oldestSeq(items);
  return oldest !== undefined && oldest > 1;
}
