/**
 * The rows of one channel's message list and the pure transitions on them. A row keeps its object (and so
 * its memoised component) while nothing about it changed: one incoming message makes one new row, and the
 * rest of the list is the same objects in a new array. A pending message's `key` is its `clientMsgId`, the
 * same key its stored copy gets, so a row goes from pending to sent in place instead of being remounted.
 */
import type { Message, PendingMessage } from '@natter/client';
import { sameForDisplay } from './lifecycle.js';

/** An attachment as a message carries it. */
export type Attachment = NonNullable<Message['attachments']>[number];

/**
 * What a send through the kit said beyond the text, kept by the kit while the message is pending (the
 * SDK's pending message carries text and mentions only): where the row belongs and what it shows.
 */
export interface SendExtras {
  /** The message this one answers. */
  readonly replyTo?: number;
  /** What the row quotes of it. */
  readonly replyPreview?: NonNullable<Message['replyPreview']>;
  /** The thread the message goes into: such rows show in the thread, not in the channel's list. */
  readonly threadRoot?: number;
  /** The uploads it carries, shown while it is pending. */
  readonly attachments?: readonly Attachment[];
}

/** A stored message: in the channel's sequence. */
export interface SentItem {
  readonly status: 'sent';
  /** React key: the `clientMsgId` of the send that made it, else the message id. */
  readonly key: string;
  readonly message: Message;
}

/** One of the user's own messages not yet stored: `pending` (waiting), `sending` (on the wire) or `failed`. */
export interface PendingItem {
  readonly status: 'pending' | 'sending' | 'failed';
  readonly key: string;
  readonly pending: PendingMessage;
  /** Reply, thread and attachments of a send made through the kit. */
  readonly extras?: SendExtras;
}

/**
 * A row of the message list. Edits, deletes (a tombstone: `message.deletedAt` set, no text), reactions,
 * reply previews and thread counters are fields of a stored row's `message`.
 */
export type MessageItem = SentItem | PendingItem;

/** The rows: stored messages ascending by `seq`, then the pending ones in sending order. */
export type MessageItems = readonly MessageItem[];

/** The React key of a stored message. */
export function sentKey(message: Message): string {
  return message.clientMsgId ?? message.id;
}

function sentItem(message: Message): SentItem {
  return Object.freeze({ status: 'sent', key: sentKey(message), message });
}

/**
 * Adds or replaces stored messages of the channel. Their pending copies (same `clientMsgId`) leave; rows
 * whose message did not change keep their object. The common case, one message newer than every row, only
 * appends.
 */
export function mergeMessages(items: MessageItems, messages: readonly Message[]): MessageItems {
  if (messages.length === 0) return items;
  const sent = items.filter((item): item is SentItem => item.status === 'sent');
  const pending = items.filter((item): item is PendingItem => item.status !== 'sent');
  const settled = new Set(messages.map((m) => m.clientMsgId).filter((id): id is string => id !== null));
  const stillPending = pending.filter((item) => !settled.has(item.key));
  const newest = sent.at(-1)?.message.seq ?? 0;
  const sorted = [...messages].sort((a, b) => a.seq - b.seq);
  if ((sorted[0]?.seq ?? 0) > newest) {
    const appended = dedupeBySeq(sorted).map(sentItem);
    return [...sent, ...appended, ...stillPending];
  }
  const bySeq = new Map<number, SentItem>();
  for (const item of sent) bySeq.set(item.message.seq, item);
  for (const message of sorted) {
    const existing = bySeq.get(message.seq);
    if (existing && (sameForDisplay(existing.message, message) || isOlder(message, existing.message)))
      continue;
    bySeq.set(message.seq, sentItem(message));
  }
  const merged = [...bySeq.values()].sort((a, b) => a.message.seq - b.message.seq);
  return [...merged, ...stillPending];
}

/**
 * True when `candidate` is an older state of `shown`: a page read before an edit or a delete can arrive
 * after it, and must not bring the old text (or a deleted message) back.
 */
export function isOlder(candidate: Message, shown: Message): boolean {
  if (shown.deletedAt !== undefined) return candidate.deletedAt === undefined;
  // A tombstone is newer than any text (it may not carry the version).
  if (candidate.deletedAt !== undefined) return false;
  return (candidate.version ?? 1) < (shown.version ?? 1);
}

function dedupeBySeq(sorted: readonly Message[]): Message[] {
  return sorted.filter((m, i) => i === 0 || sorted[i - 1]?.seq !== m.seq);
}

/**
 * Drops stored rows older than `fromSeq`: used when a fresh page from the server does not join the rows
 * the cache gave (the cache was behind), so the list never shows a hole.
 */
export function dropBefore(items: MessageItems, fromSeq: number): MessageItems {
  const kept = items.filter((item) => item.status !== 'sent' || item.message.seq >= fromSeq);
  return kept.length === items.length ? items : kept;
}

/**
 * Applies an outbox status. `sent` leaves the row as it is (its stored copy arrives with the ack or through
 * sync and replaces it), `discarded` removes it, the others add or update the pending row.
 */
export function applyPending(
  items: MessageItems,
  message: PendingMessage,
  extras?: SendExtras,
): MessageItems {
  const index = items.findIndex((item) => item.key === message.clientMsgId);
  const existing = index >= 0 ? items[index] : undefined;
  if (existing?.status === 'sent') return items;
  if (message.status === 'sent') return items;
  if (message.status === 'discarded') return index < 0 ? items : items.filter((_, i) => i !== index);
  const next: PendingItem = Object.freeze({
    status: message.status,
    key: message.clientMsgId,
    pending: message,
    ...(extras ? { extras } : {}),
  });
  if (
    existing &&
    existing.status === next.status &&
    existing.pending.attempts === message.attempts &&
    existing.extras === extras
  )
    return items;
  if (index >= 0) return items.map((item, i) => (i === index ? next : item));
  return [...items, next];
}

/** The lowest stored `seq` shown, if any. */
export function oldestSeq(items: MessageItems): number | undefined {
  for (const item of items) if (item.status === 'sent') return item.message.seq;
  return undefined;
}

/** The highest stored `seq` shown, if any. */
export function newestSeq(items: MessageItems): number | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item?.status === 'sent') return item.message.seq;
  }
  return undefined;
}
