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
import { key, prefix, rangeOf } from './keys.js';
import type { SnapshotReader } from './reader.js';
import type { StagedView } from './staging.js';
import type { MessageRef, SyncValue } from './values.js';

/**
 * The LevelDB adapter's lifecycle writes, staged in the call's view so they commit with their entries. A
 * delete overwrites the message value and deletes its mention and reaction keys. Nothing of the content is
 * readable through the store afterwards; LevelDB itself keeps superseded values in its log and table files
 * until a compaction rewrites them (docs/adapters.md).
 */
export class LevelLifecycleWrites implements LifecycleWrites {
  constructor(
    private readonly view: StagedView,
    private readonly assertActive: () => void,
  ) {}

  async getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    this.assertActive();
    return this.view.get<Message>(key.message(channelId, seq));
  }

  async editMessage(channelId: string, seq: number, edit: MessageEdit): Promise<void> {
    const message = await this.require(channelId, seq);
    const ref: MessageRef = [channelId, seq];
    for (const userId of message.mentions) this.view.del(key.mention(userId, message.id));
    for (const userId of new Set(edit.mentions)) this.view.put(key.mention(userId, message.id), ref);
    this.view.put(key.message(channelId, seq), {
      ...message,
      text: edit.text,
      mentions: [...edit.mentions],
      editedAt: edit.editedAt,
      version: edit.version,
    });
  }

  async eraseMessage(channelId: string, seq: number, deletedAt: number, deletedBy: string): Promise<void> {
    const message = await this.require(channelId, seq);
    for (const userId of message.mentions) this.view.del(key.mention(userId, message.id));
    for (const reactionKey of await this.view.rangeKeys(prefix.reactions(channelId, seq)))
      this.view.del(reactionKey);
    const { editedAt: _e, version: _v, attachments: _a, ...kept } = message;
    this.view.put(key.message(channelId, seq), { ...kept, text: '', mentions: [], deletedAt, deletedBy });
  }

  async countThreadReply(channelId: string, rootSeq: number, at: number, replySeq: number): Promise<void> {
    const root = await this.require(channelId, rootSeq);
    this.view.put(key.message(channelId, rootSeq), {
      ...root,
      threadReplies: (root.threadReplies ?? 0) + 1,
      threadLastReplyAt: at,
      threadLastReplySeq: replySeq,
    });
  }

  async setReaction(change: ReactionChange): Promise<boolean> {
    this.assertActive();
    const k = key.reaction(change.channelId, change.seq, change.emoji, change.userId);
    const present = (await this.view.get(k)) !== undefined;
    if (present === change.add) return false;
    if (change.add) this.view.put(k, change.emoji);
    else this.view.del(k);
    return true;
  }

  async reactionEmojis(channelId: string, seq: number): Promise<string[]> {
    this.assertActive();
    return [...new Set(await this.view.range<string>(prefix.reactions(channelId, seq)))];
  }

  async appendEntry(
    entry: LifecycleEntryRecord,
    recipientIds: readonly string[],
  ): Promise<Array<{ userId: string; pos: number }>> {
    this.assertActive();
    const value: SyncValue = [entry.channelId, entry.seq, { ...entry }];
    const positions: Array<{ userId: string; pos: number }> = [];
    for (const userId of recipientIds) {
      const pos = ((await this.view.get<number>(key.syncHead(userId))) ?? 0) + 1;
      this.view.put(key.sync(userId, pos), value);
      this.view.put(key.syncHead(userId), pos);
      positions.push({ userId, pos });
    }
    return positions;
  }

  async findMutation(userId: string, clientId: string): Promise<number | undefined> {
    this.assertActive();
    return this.view.get<number>(key.mutation(userId, clientId));
  }

  async recordMutation(userId: string, clientId: string, pos: number): Promise<void> {
    this.assertActive();
    this.view.put(key.mutation(userId, clientId), pos);
  }

  private async require(channelId: string, seq: number): Promise<Message> {
    this.assertActive();
    const message = await this.view.get<Message>(key.message(channelId, seq));
    if (!message) throw new Error(`message ${channelId}/${seq} does not exist`);
    return message;
  }
}

/** The LevelDB adapter's lifecycle reads, each on one snapshot. */
export class LevelLifecycleReads implements LifecycleReads {
  constructor(private readonly read: <T>(fn: (r: SnapshotReader) => Promise<T>) => Promise<T>) {}

  async reactionsOf(channelId: string, seqs: readonly number[], viewerId: string) {
    return this.read(async (r) => {
      const out = new Map<number, ReactionSummary[]>();
      for (const seq of seqs) {
        const rows = await r.entries<string>(rangeOf(prefix.reactions(channelId, seq)));
        if (rows.length === 0) continue;
        const byEmoji = new Map<string, ReactionSummary>();
        for (const [k, emoji] of rows) {
          const summary = byEmoji.get(emoji) ?? { emoji, count: 0, me: false };
          summary.count++;
          if (k.slice(k.lastIndexOf('!') + 1) === viewerId) summary.me = true;
          byEmoji.set(emoji, summary);
        }
        out.set(seq, sortReactions([...byEmoji.values()]));
      }
      return out;
    });
  }

  async reactorsOf(channelId: string, seq: number, emoji: string, after: string | undefined, limit: number) {
    const p = prefix.reactors(channelId, seq, emoji);
    return this.read(async (r) => {
      const range = after === undefined ? rangeOf(p) : { gt: p + after, lt: rangeOf(p).lt };
      const rows = await r.entries<string>({ ...range, limit: Math.max(0, Math.floor(limit)) });
      return rows.map(([k]) => k.slice(p.length));
    });
  }

  /** Scans the channel's messages for the root's replies: threads are read far less often than written. */
  async readThread(channelId: string, rootSeq: number, query: HistoryQuery): Promise<HistoryPage> {
    return this.read(async (r) => {
      const all = await r.entries<Message>(rangeOf(prefix.messages(channelId)));
      const replies = all.map(([, m]) => m).filter((m) => m.threadRoot === rootSeq);
      const page = pageOfSorted(replies, query);
      return { messages: page.items, hasMoreBefore: page.hasMoreBefore, hasMoreAfter: page.hasMoreAfter };
    });
  }
}
