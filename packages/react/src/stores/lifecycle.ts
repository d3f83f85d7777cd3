/**
 * How the list's rows take the message lifecycle: an edit or a delete replaces one row's message, a reaction
 * changes one row's counts, a thread reply raises its root's counter. Pure functions over the rows: the row
 * that changed gets a new object, every other row (and the array, when nothing changed) keeps its own.
 */
import type { Message } from '@natter/client';
import type { MessageItems, SentItem } from './message-items.js';

type ReactionSummary = NonNullable<Message['reactions']>[number];

/** One reaction added or removed, as the sync log reports it. */
export interface ReactionChange {
  readonly seq: number;
  readonly userId: string;
  readonly emoji: string;
  readonly added: boolean;
}

/** The index of the stored row with `seq`, by binary search over the stored rows (they come first, by seq). */
export function indexOfSeq(items: MessageItems, seq: number): number {
  let low = 0;
  let high = items.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const item = items[mid];
    // Pending rows sit after every stored row.
    const at = item?.status === 'sent' ? item.message.seq : Number.POSITIVE_INFINITY;
    if (at === seq) return mid;
    if (at < seq) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

/** Replaces the message of the row with `seq` by `change(message)`; the same rows when it is not loaded. */
export function updateMessage(
  items: MessageItems,
  seq: number,
  change: (message: Message) => Message,
): MessageItems {
  const index = indexOfSeq(items, seq);
  const item = items[index] as SentItem | undefined;
  if (!item) return items;
  const next = change(item.message);
  if (next === item.message) return items;
  const copy = items.slice();
  copy[index] = Object.freeze({ status: 'sent', key: item.key, message: next });
  return copy;
}

/**
 * A message as an `edited` or `deleted` entry gives it. Entries carry no reactions (those come as their
 * own entries), so an edit keeps the counts the row shows; a tombstone keeps nothing.
 */
export function replacedMessage(current: Message, next: Message): Message {
  if (next.deletedAt !== undefined || next.reactions || !current.reactions) return next;
  return { ...next, reactions: current.reactions };
}

/** A message with one reaction added or removed; `me` is the user (for the "you reacted" flag). */
export function withReaction(message: Message, change: ReactionChange, me: string | undefined): Message {
  if (message.deletedAt !== undefined) return message;
  const mine = change.userId === me;
  const reactions: ReactionSummary[] = [...(message.reactions ?? [])];
  const index = reactions.findIndex((r) => r.emoji === change.emoji);
  const current = reactions[index];
  // The user's own reaction is known for sure: a repeat (the snapshot already had it) changes nothing.
  if (mine && current && current.me === change.added) return message;
  if (!current) {
    if (!change.added) return message;
    reactions.push({ emoji: change.emoji, count: 1, me: mine });
  } else {
    const count = Math.max(0, current.count + (change.added ? 1 : -1));
    const next = { emoji: current.emoji, count, me: mine ? change.added : current.me };
    if (count === 0) reactions.splice(index, 1);
    else reactions[index] = next;
  }
  if (reactions.length > 0) return { ...message, reactions };
  const { reactions: _dropped, ...rest } = message;
  return rest;
}

/**
 * A thread root after one more reply. A root read after the reply was stored counts it already
 * (`threadLastReplySeq`), and then stays as it is.
 */
export function withThreadReply(root: Message, reply: Message): Message {
  if (reply.seq <= (root.threadLastReplySeq ?? 0)) return root;
  return {
    ...root,
    threadReplies: (root.threadReplies ?? 0) + 1,
    threadLastReplyAt: Math.max(root.threadLastReplyAt ?? 0, reply.createdAt),
    threadLastReplySeq: reply.seq,
  };
}

/** True when two copies of a message show the same (text, version, delete, counts): the row stays. */
export function sameForDisplay(a: Message, b: Message): boolean {
  if (a === b) return true;
  return (
    a.id === b.id &&
    a.seq === b.seq &&
    a.text === b.text &&
    a.createdAt === b.createdAt &&
    a.version === b.version &&
    a.deletedAt === b.deletedAt &&
    a.threadReplies === b.threadReplies &&
    a.replyPreview?.text === b.replyPreview?.text &&
    a.replyPreview?.deleted === b.replyPreview?.deleted &&
    (a.attachments?.length ?? 0) === (b.attachments?.length ?? 0) &&
    sameReactions(a.reactions, b.reactions)
  );
}

function sameReactions(a: Message['reactions'], b: Message['reactions']): boolean {
  if ((a?.length ?? 0) !== (b?.length ?? 0)) return false;
  return (a ?? []).every((r, i) => {
    const o = b?.[i];
    return o !== undefined && o.emoji === r.emoji && o.count === r.count && o.me === r.me;
  });
}
