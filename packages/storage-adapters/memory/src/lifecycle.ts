import type { Message, ReactionSummary } from '@natter/protocol';
import {
  type HistoryPage,
  type HistoryQuery,
  type LifecycleEntryRecord,
  type LifecycleReads,
  type LifecycleWrites,
  type MessageEdit,
  pageOfSorted,
  type ReactionChange,
  sortReactions,
} from '@natter/server-core';
import { copyMessage } from './copy.js';
import type { Staging } from './staging.js';
import { clientMsgKey, type MemoryState, messageKey, type ReactionSet } from './state.js';

/**
 * The memory adapter's lifecycle writes. Every change goes into the write's {@link Staging}, so it commits
 * or rolls back with the entries it produces. A delete replaces the stored object with a tombstone: the old
 * text is no longer referenced by the store (the garbage collector reclaims it).
 */
export class MemoryLifecycleWrites implements LifecycleWrites {
  constructor(
    private readonly staging: Staging,
    private readonly assertActive: () => void,
  ) {}

  async getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    this.assertActive();
    const message = this.staging.message(channelId, seq);
    return message && copyMessage(message);
  }

  async editMessage(channelId: string, seq: number, edit: MessageEdit): Promise<void> {
    const message = this.require(channelId, seq);
    this.staging.updateMessage({
      ...message,
      text: edit.text,
      mentions: [...edit.mentions],
      editedAt: edit.editedAt,
      version: edit.version,
    });
    // Users mentioned for the first time get a ref; readers drop refs the message no longer backs.
    for (const userId of new Set(edit.mentions)) {
      if (!message.mentions.includes(userId)) {
        this.staging.addMention(userId, { messageId: message.id, channelId, seq });
      }
    }
  }

  async eraseMessage(channelId: string, seq: number, deletedAt: number, deletedBy: string): Promise<void> {
    const message = this.require(channelId, seq);
    const { editedAt: _e, version: _v, replyPreview: _p, reactions: _r, attachments: _a, ...kept } = message;
    this.staging.updateMessage({ ...kept, text: '', mentions: [], deletedAt, deletedBy });
    this.staging.reactions.set(messageKey(channelId, seq), new Map());
  }

  async countThreadReply(channelId: string, rootSeq: number, at: number, replySeq: number): Promise<void> {
    const root = this.require(channelId, rootSeq);
    this.staging.updateMessage({
      ...root,
      threadReplies: (root.threadReplies ?? 0) + 1,
      threadLastReplyAt: at,
      threadLastReplySeq: replySeq,
    });
  }

  async setReaction(change: ReactionChange): Promise<boolean> {
    this.assertActive();
    const set = this.staging.reactionSet(change.channelId, change.seq);
    const users = set.get(change.emoji);
    if (change.add === (users?.has(change.userId) ?? false)) return false;
    if (change.add) set.set(change.emoji, new Set([...(users ?? []), change.userId]));
    else {
      users!.delete(change.userId);
      if (users!.size === 0) set.delete(change.emoji);
    }
    this.staging.reactions.set(messageKey(change.channelId, change.seq), set);
    return true;
  }

  async reactionEmojis(channelId: string, seq: number): Promise<string[]> {
    this.assertActive();
    return [...this.staging.reactionSet(channelId, seq).keys()];
  }

  async appendEntry(
    entry: LifecycleEntryRecord,
    recipientIds: readonly string[],
  ): Promise<Array<{ userId: string; pos: number }>> {
    this.assertActive();
    return recipientIds.map((userId) => ({
      userId,
      pos: this.staging.appendSync(userId, {
        channelId: entry.channelId,
        seq: entry.seq,
        entry: { ...entry },
      }),
    }));
  }

  async findMutation(userId: string, clientId: string): Promise<number | undefined> {
    this.assertActive();
    return this.staging.mutation(clientMsgKey(userId, clientId));
  }

  async recordMutation(userId: string, clientId: string, pos: number): Promise<void> {
    this.assertActive();
    this.staging.mutations.set(clientMsgKey(userId, clientId), pos);
  }

  private require(channelId: string, seq: number): Message {
    this.assertActive();
    const message = this.staging.message(channelId, seq);
    if (!message) throw new Error(`message ${channelId}/${seq} does not exist`);
    return message;
  }
}

/** The memory adapter's lifecycle reads, over the committed state. */
export class MemoryLifecycleReads implements LifecycleReads {
  constructor(private readonly state: MemoryState) {}

  async reactionsOf(
    channelId: string,
    seqs: readonly number[],
    viewerId: string,
  ): Promise<Map<number, ReactionSummary[]>> {
    const out = new Map<number, ReactionSummary[]>();
    for (const seq of seqs) {
      const set = this.state.reactions.get(messageKey(channelId, seq));
      if (set && set.size > 0) out.set(seq, summaries(set, viewerId));
    }
    return out;
  }

  async reactorsOf(
    channelId: string,
    seq: number,
    emoji: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    const users = this.state.reactions.get(messageKey(channelId, seq))?.get(emoji) ?? new Set<string>();
    return [...users]
      .sort()
      .filter((id) => after === undefined || id > after)
      .slice(0, Math.max(0, limit));
  }

  async readThread(channelId: string, rootSeq: number, query: HistoryQuery): Promise<HistoryPage> {
    const replies = (this.state.messages.get(channelId) ?? []).filter((m) => m.threadRoot === rootSeq);
    const page = pageOfSorted(replies, query);
    return {
      messages: page.items.map(copyMessage),
      hasMoreBefore: page.hasMoreBefore,
      hasMoreAfter: page.hasMoreAfter,
    };
  }
}

function summaries(set: ReactionSet, viewerId: string): ReactionSummary[] {
  return sortReactions(
    [...set].map(([emoji, users]) => ({ emoji, count: users.size, me: users.has(viewerId) })),
  );
}
