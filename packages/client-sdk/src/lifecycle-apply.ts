import type { EntryOf, Message, ReactionSummary } from '@natter/protocol';

/**
 * How a device applies lifecycle entries to its cached copy of a message: pure functions, so the cache,
 * the apps and the property test apply them the same way.
 */

/** The cached message after an `edited` entry: the server's message, keeping the reactions the cache knows. */
export function applyEdited(cached: Message | undefined, message: Message): Message {
  if (message.deletedAt !== undefined) return message;
  return cached?.reactions ? { ...message, reactions: cached.reactions } : message;
}

/** The cached message after a `reaction` entry by `entry.userId`; `me` is the device's user. */
export function applyReaction(message: Message, entry: EntryOf<'reaction'>, me: string | undefined): Message {
  if (message.deletedAt !== undefined) return message;
  const reactions: ReactionSummary[] = (message.reactions ?? []).map((r) => ({ ...r }));
  const mine = entry.userId === me;
  let summary = reactions.find((r) => r.emoji === entry.emoji);
  if (!summary) {
    if (!entry.added) return message;
    summary = { emoji: entry.emoji, count: 0, me: false };
    reactions.push(summary);
  }
  summary.count = Math.max(0, summary.count + (entry.added ? 1 : -1));
  if (mine) summary.me = entry.added;
  const kept = reactions.filter((r) => r.count > 0);
  const { reactions: _old, ...rest } = message;
  return kept.length > 0 ? { ...rest, reactions: kept } : rest;
}

/**
 * The thread root after one more reply. A root read after the reply was stored counts it already
 * (`threadLastReplySeq`): then it stays as it is.
 */
export function applyThreadReply(root: Message, reply: Message): Message {
  if (reply.seq <= (root.threadLastReplySeq ?? 0)) return root;
  return {
    ...root,
    threadReplies: (root.threadReplies ?? 0) + 1,
    threadLastReplyAt: Math.max(root.threadLastReplyAt ?? 0, reply.createdAt),
    threadLastReplySeq: reply.seq,
  };
}
