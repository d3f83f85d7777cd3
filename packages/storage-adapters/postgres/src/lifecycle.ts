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
import type { QueryResultRow } from 'pg';
import { type MessageRow, toMessage } from './rows.js';
import type { NamedStatement, Statements } from './statements.js';
import { decodeText, encodeText } from './text.js';
import { readThreadPage } from './thread-page.js';

/** How the lifecycle writes reach their call's transaction (write-transaction.ts). */
export interface LifecycleTxDeps {
  sql: Statements;
  /** Runs a statement that only reads. */
  read: <R extends QueryResultRow>(statement: NamedStatement, values: unknown[]) => Promise<R[]>;
  /** Runs a statement that changes data. */
  change: <R extends QueryResultRow>(statement: NamedStatement, values: unknown[]) => Promise<R[]>;
  /** A unique key this call found free was committed meanwhile by another transaction: run again. */
  raceLost: (message: string) => never;
}

/**
 * The PostgreSQL adapter's lifecycle writes, inside one `write()` call's transaction. `getMessage` first
 * takes the channel's row lock (once per call and channel): appends take it too, so every change of a
 * channel's messages is serialised by it, the message read afterwards is the committed current one, and
 * the locks follow the order appends take them (channel, then sync heads by user id).
 *
 * A delete (`erase_message`, schema/lifecycle-functions.ts) empties the row's text, mentions and
 * attachments (the generated search vector follows), deletes its mention rows and reactions. PostgreSQL
 * keeps the old row version as a dead tuple until VACUUM, and the GIN index keeps its words as keys until
 * a REINDEX: no read returns them, see decision 110.
 */
export class PgLifecycleWrites implements LifecycleWrites {
  private readonly locked = new Set<string>();

  constructor(private readonly deps: LifecycleTxDeps) {}

  async getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    if (!Number.isSafeInteger(seq)) return undefined;
    if (!this.locked.has(channelId)) {
      await this.deps.read(this.deps.sql.lockChannel, [channelId]);
      this.locked.add(channelId);
    }
    const [row] = await this.deps.read<MessageRow>(this.deps.sql.message, [channelId, seq]);
    return row && toMessage(row);
  }

  async editMessage(channelId: string, seq: number, edit: MessageEdit): Promise<void> {
    await this.deps.change(this.deps.sql.editMessage, [
      channelId,
      seq,
      encodeText(edit.text),
      JSON.stringify(edit.mentions),
      edit.editedAt,
      edit.version,
    ]);
  }

  async eraseMessage(channelId: string, seq: number, deletedAt: number, deletedBy: string): Promise<void> {
    await this.deps.change(this.deps.sql.eraseMessage, [channelId, seq, deletedAt, deletedBy]);
  }

  async countThreadReply(channelId: string, rootSeq: number, at: number, replySeq: number): Promise<void> {
    await this.deps.change(this.deps.sql.countThreadReply, [at, replySeq, channelId, rootSeq]);
  }

  async setReaction(change: ReactionChange): Promise<boolean> {
    const { channelId, seq, emoji, userId } = change;
    const statement = change.add ? this.deps.sql.addReaction : this.deps.sql.removeReaction;
    return (await this.deps.change(statement, [channelId, seq, encodeText(emoji), userId])).length > 0;
  }

  async reactionEmojis(channelId: string, seq: number): Promise<string[]> {
    const rows = await this.deps.read<{ emoji: string }>(this.deps.sql.reactionEmojis, [channelId, seq]);
    return rows.map((r) => decodeText(r.emoji));
  }

  async appendEntry(
    entry: LifecycleEntryRecord,
    recipientIds: readonly string[],
  ): Promise<Array<{ userId: string; pos: number }>> {
    if (recipientIds.length === 0) return [];
    const rows = await this.deps.change<{ user_id: string; pos: number }>(this.deps.sql.appendEntry, [
      recipientIds,
      entry.channelId,
      entry.seq,
      JSON.stringify(entry),
    ]);
    return rows.map((r) => ({ userId: r.user_id, pos: r.pos }));
  }

  async findMutation(userId: string, clientId: string): Promise<number | undefined> {
    const [row] = await this.deps.read<{ pos: number }>(this.deps.sql.findMutation, [userId, clientId]);
    return row?.pos;
  }

  async recordMutation(userId: string, clientId: string, pos: number): Promise<void> {
    const inserted = await this.deps.change(this.deps.sql.recordMutation, [userId, clientId, pos]);
    // The same key from another process committed after this call looked: run again, then it is found.
    if (inserted.length === 0) this.deps.raceLost(`mutation ${clientId} of ${userId} was applied meanwhile`);
  }
}

/** The PostgreSQL adapter's lifecycle reads: single autocommit statements on the pool. */
export class PgLifecycleReads implements LifecycleReads {
  constructor(
    private readonly sql: Statements,
    private readonly rows: <R extends QueryResultRow>(
      statement: NamedStatement,
      values: unknown[],
    ) => Promise<R[]>,
  ) {}

  async reactionsOf(
    channelId: string,
    seqs: readonly number[],
    viewerId: string,
  ): Promise<Map<number, ReactionSummary[]>> {
    const out = new Map<number, ReactionSummary[]>();
    const wanted = seqs.filter((seq) => Number.isSafeInteger(seq));
    if (wanted.length === 0) return out;
    const rows = await this.rows<{ seq: number; emoji: string; n: number; me: boolean }>(
      this.sql.reactionsOf,
      [viewerId, channelId, wanted],
    );
    for (const row of rows) {
      const list = out.get(row.seq) ?? [];
      list.push({ emoji: decodeText(row.emoji), count: row.n, me: row.me });
      out.set(row.seq, list);
    }
    for (const list of out.values()) sortReactions(list);
    return out;
  }

  async reactorsOf(
    channelId: string,
    seq: number,
    emoji: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0 || !Number.isSafeInteger(seq)) return [];
    const rows = await this.rows<{ user_id: string }>(this.sql.reactorsOf, [
      channelId,
      seq,
      encodeText(emoji),
      after ?? '',
      count,
    ]);
    return rows.map((r) => r.user_id);
  }

  readThread(channelId: string, rootSeq: number, query: HistoryQuery): Promise<HistoryPage> {
    const range = (statement: NamedStatement) => (from: number, to: number, n: number) =>
      this.rows<MessageRow>(statement, [channelId, rootSeq, from, to, n]);
    return readThreadPage(range(this.sql.threadAscending), range(this.sql.threadDescending), query);
  }
}
