import type { Message, ReactionSummary } from '@natter/protocol';
import {
  type HistoryPage,
  type HistoryQuery,
  type LifecycleEntryRecord,
  type LifecycleReads,
  type LifecycleWrites,
  type MessageEdit,
  type ReactionChange,
  sortReactions,
} from '@natter/server-core';
import type { AppendOperation } from './append.js';
import { readHistoryPage } from './chat.js';
import { toMessage } from './rows.js';
import { ftsQuery } from './search.js';
import type { ReadStatements, WriteStatements } from './statements.js';

/**
 * The SQLite adapter's lifecycle writes, on the write connection inside the batch. A delete overwrites the
 * row's text and mentions, removes its mentions, reactions and full-text rows (FTS5 `secure-delete` is on,
 * so its tokens leave the index at once), and the connection runs with `PRAGMA secure_delete = ON`, so the
 * freed bytes are zeroed in the pages; the WAL copies are overwritten at the next checkpoint.
 */
export class SqliteLifecycleWrites implements LifecycleWrites {
  constructor(
    private readonly reads: ReadStatements,
    private readonly writes: WriteStatements,
    private readonly append: AppendOperation,
    private readonly markWritten: () => void,
    private readonly assertActive: () => void,
  ) {}

  async getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    this.assertActive();
    const row = this.reads.message.get(channelId, seq);
    return row && toMessage(row);
  }

  async editMessage(channelId: string, seq: number, edit: MessageEdit): Promise<void> {
    const old = this.write(channelId, seq);
    this.forgetSearchText(old);
    this.writes.deleteMentions.run(old.id, channelId, seq);
    this.writes.editMessage.run(
      edit.text,
      JSON.stringify(edit.mentions),
      edit.editedAt,
      edit.version,
      channelId,
      seq,
    );
    for (const userId of new Set(edit.mentions))
      this.writes.insertMention.run(userId, old.id, channelId, seq);
    this.writes.insertSearchText.run(edit.text, channelId, seq);
  }

  async eraseMessage(channelId: string, seq: number, deletedAt: number, deletedBy: string): Promise<void> {
    const old = this.write(channelId, seq);
    this.forgetSearchText(old);
    this.writes.deleteMentions.run(old.id, channelId, seq);
    this.writes.removeReactions.run(channelId, seq);
    this.writes.eraseMessage.run(deletedAt, deletedBy, channelId, seq);
  }

  async countThreadReply(channelId: string, rootSeq: number, at: number, replySeq: number): Promise<void> {
    this.assertActive();
    this.markWritten();
    this.writes.countThreadReply.run(at, replySeq, channelId, rootSeq);
  }

  async setReaction(change: ReactionChange): Promise<boolean> {
    this.assertActive();
    this.markWritten();
    const { channelId, seq, emoji, userId } = change;
    const statement = change.add ? this.writes.addReaction : this.writes.removeReaction;
    return statement.run(channelId, seq, emoji, userId).changes > 0;
  }

  async reactionEmojis(channelId: string, seq: number): Promise<string[]> {
    this.assertActive();
    return this.writes.reactionEmojis.all(channelId, seq).map((r) => r.emoji);
  }

  async appendEntry(
    entry: LifecycleEntryRecord,
    recipientIds: readonly string[],
  ): Promise<Array<{ userId: string; pos: number }>> {
    this.assertActive();
    this.markWritten();
    return this.append.appendEntry(entry, recipientIds);
  }

  async findMutation(userId: string, clientId: string): Promise<number | undefined> {
    this.assertActive();
    return this.writes.findMutation.get(userId, clientId)?.pos;
  }

  async recordMutation(userId: string, clientId: string, pos: number): Promise<void> {
    this.assertActive();
    this.markWritten();
    this.writes.recordMutation.run(userId, clientId, pos);
  }

  private write(channelId: string, seq: number): Message {
    this.assertActive();
    const row = this.reads.message.get(channelId, seq);
    if (!row) throw new Error(`message ${channelId}/${seq} does not exist`);
    this.markWritten();
    return toMessage(row);
  }

  /** Removes a text message's full-text row (found through its own words, else by a scan). */
  private forgetSearchText(message: Message): void {
    if (message.kind !== 'text') return;
    const match = ftsQuery(message.text);
    const rows = match
      ? this.writes.searchRowsOf.all({ match, channelId: message.channelId, seq: message.seq })
      : this.writes.searchRowsScan.all(message.channelId, message.seq);
    for (const { rowid } of rows) {
      this.writes.deleteSearchText.run(rowid, message.text, message.channelId, message.seq);
    }
  }
}

/** The SQLite adapter's lifecycle reads, on the read connection. */
export class SqliteLifecycleReads implements LifecycleReads {
  constructor(private readonly read: <T>(fn: (r: ReadStatements) => T) => Promise<T>) {}

  async reactionsOf(channelId: string, seqs: readonly number[], viewerId: string) {
    return this.read((r) => {
      const out = new Map<number, ReactionSummary[]>();
      for (const row of r.reactionsOf.all(viewerId, channelId, JSON.stringify(seqs))) {
        const list = out.get(row.seq) ?? [];
        list.push({ emoji: row.emoji, count: row.n, me: row.me === 1 });
        out.set(row.seq, list);
      }
      for (const list of out.values()) sortReactions(list);
      return out;
    });
  }

  async reactorsOf(channelId: string, seq: number, emoji: string, after: string | undefined, limit: number) {
    return this.read((r) =>
      r.reactorsOf
        .all(channelId, seq, emoji, after ?? '', Math.max(0, Math.floor(limit)))
        .map((x) => x.user_id),
    );
  }

  async readThread(channelId: string, rootSeq: number, query: HistoryQuery): Promise<HistoryPage> {
    return this.read((r) => readHistoryPage(r, channelId, query, rootSeq));
  }
}
