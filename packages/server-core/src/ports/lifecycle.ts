import type { Message, ReactionSummary } from '@natter/protocol';
import type { HistoryPage, HistoryQuery } from './storage.js';

/**
 * What a lifecycle entry records in a user's sync log. `edited` and `deleted` entries point at the message
 * and are read back with the message as it is then (so a late reader never sees content a later edit or a
 * delete replaced); a `reaction` entry keeps its own fields.
 */
export type LifecycleEntryRecord =
  | { kind: 'edited'; channelId: string; seq: number }
  | { kind: 'deleted'; channelId: string; seq: number }
  | { kind: 'reaction'; channelId: string; seq: number; userId: string; emoji: string; added: boolean };

/** A new text and its mentions, replacing the old ones. */
export interface MessageEdit {
  text: string;
  mentions: string[];
  editedAt: number;
  /** The version after the edit (the stored one plus one). */
  version: number;
}

/** One reaction change. */
export interface ReactionChange {
  channelId: string;
  seq: number;
  userId: string;
  emoji: string;
  /** True adds the reaction, false removes it. */
  add: boolean;
}

/**
 * Lifecycle writes, inside a {@link WriteTransaction} (`tx.lifecycle`), present when the manifest declares
 * the `lifecycle` capability. Like the rest of the transaction they commit or roll back as a unit with the
 * sync entries they produce. The rules (who may edit, the edit window, the emoji limit) are the core's.
 */
export interface LifecycleWrites {
  /** The message as stored (a tombstone included); undefined when there is none. */
  getMessage(channelId: string, seq: number): Promise<Message | undefined>;
  /** Replaces text and mentions; the mentions index and the search index follow. */
  editMessage(channelId: string, seq: number, edit: MessageEdit): Promise<void>;
  /**
   * Makes the message a tombstone: text and mentions emptied, its rows in the mentions and search indexes
   * and its reactions removed, `deletedAt` and `deletedBy` set. Nothing of the content may be readable
   * afterwards through any method, after a reopen too.
   */
  eraseMessage(channelId: string, seq: number, deletedAt: number, deletedBy: string): Promise<void>;
  /** Counts one more reply on a thread root and records its time and seq (`threadLastReplySeq`). */
  countThreadReply(channelId: string, rootSeq: number, at: number, replySeq: number): Promise<void>;
  /** Adds or removes one (message, user, emoji) reaction; true when that changed anything. */
  setReaction(change: ReactionChange): Promise<boolean>;
  /** The distinct emojis a message carries, for the per-message limit. */
  reactionEmojis(channelId: string, seq: number): Promise<string[]>;
  /** Appends one lifecycle entry to each recipient's log, with that user's next position. */
  appendEntry(
    entry: LifecycleEntryRecord,
    recipientIds: readonly string[],
  ): Promise<Array<{ userId: string; pos: number }>>;
  /** The caller's position of a mutation applied earlier with this key (0: it changed nothing). */
  findMutation(userId: string, clientId: string): Promise<number | undefined>;
  /** Remembers a mutation's key with the caller's position for it (0 when it changed nothing). */
  recordMutation(userId: string, clientId: string, pos: number): Promise<void>;
}

/** Lifecycle reads on the {@link ChatStore} (`chat.lifecycle`), with the same capability. */
export interface LifecycleReads {
  /** Reactions per message of `seqs` (messages without any are absent), `me` for `viewerId`. */
  reactionsOf(
    channelId: string,
    seqs: readonly number[],
    viewerId: string,
  ): Promise<Map<number, ReactionSummary[]>>;
  /** Ids of the users who reacted with `emoji`, ascending, after `after`, at most `limit`. */
  reactorsOf(
    channelId: string,
    seq: number,
    emoji: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]>;
  /** A page of the replies of thread `rootSeq`, ascending by `seq`, anchored like channel history. */
  readThread(channelId: string, rootSeq: number, query: HistoryQuery): Promise<HistoryPage>;
}

/** Sorts reaction summaries the one way every adapter returns them: by count, then first use order. */
export function sortReactions(summaries: ReactionSummary[]): ReactionSummary[] {
  return summaries.sort((a, b) => b.count - a.count || (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0));
}
