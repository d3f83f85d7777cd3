import type { Message, SyncEntry } from '@natter/protocol';
import type {
  ChannelRecord,
  ChatStore,
  HistoryPage,
  HistoryQuery,
  MemberRecord,
  MessageQuery,
  WriteHint,
  WriteTransaction,
} from '@natter/server-core';
import { pageRange } from '@natter/server-core';
import type { Pool, QueryResultRow } from 'pg';
import { PgLifecycleReads } from './lifecycle.js';
import { PgModerationReads } from './moderation.js';
import {
  type ChannelMemberRow,
  type ChannelRow,
  type MemberRow,
  type MessageRow,
  toChannel,
  toChannelWithMember,
  toMember,
  toMessage,
  toSyncEntry,
} from './rows.js';
import type { NamedStatement, Statements } from './statements.js';

/** How the chat store reaches the rest of the adapter. */
export interface PgChatDeps {
  /** The open pool; throws UNAVAILABLE when the store is closed. */
  pool: () => Pool;
  sql: Statements;
  epoch: () => string;
  write: <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint) => Promise<T>;
}

/** Letters-and-digits words of a search text (the rest only separates words). */
const WORDS = /[\p{L}\p{N}]+/gu;

/**
 * The PostgreSQL adapter's {@link ChatStore}. Reads are single autocommit statements on the pool, so
 * they see committed data only (READ COMMITTED never shows another transaction's uncommitted rows).
 */
export class PgChatStore implements ChatStore {
  /** Reactions and thread pages (schema 6). */
  readonly lifecycle: PgLifecycleReads;
  /** Moderation rows (the `moderation` capability). */
  readonly moderation: PgModerationReads;

  constructor(private readonly deps: PgChatDeps) {
    this.lifecycle = new PgLifecycleReads(deps.sql, (statement, values) => this.rows(statement, values));
    this.moderation = new PgModerationReads(deps.sql, (statement, values) => this.rows(statement, values));
  }

  epoch(): string {
    return this.deps.epoch();
  }

  write<T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T> {
    return this.deps.write(fn, hint);
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    const [row] = await this.rows<ChannelRow>(this.deps.sql.channel, [channelId]);
    return row && toChannel(row);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    const [row] = await this.rows<MemberRow>(this.deps.sql.member, [channelId, userId]);
    return row && toMember(row);
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    return (await this.rows<MemberRow>(this.deps.sql.members, [channelId])).map(toMember);
  }

  async listChannelsOf(userId: string): Promise<Array<{ channel: ChannelRecord; member: MemberRecord }>> {
    const rows = await this.rows<ChannelMemberRow>(this.deps.sql.channelsOf, [userId]);
    return rows.map((row) => toChannelWithMember(row, userId));
  }

  async getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    if (!Number.isSafeInteger(seq)) return undefined;
    const [row] = await this.rows<MessageRow>(this.deps.sql.message, [channelId, seq]);
    return row && toMessage(row);
  }

  async countUnread(channelId: string, userId: string, afterSeq: number): Promise<number> {
    const [row] = await this.rows<{ n: number }>(this.deps.sql.countUnread, [
      channelId,
      Math.floor(afterSeq),
      userId,
    ]);
    return row?.n ?? 0;
  }

  /**
   * The page is computed from the channel's `last_seq` (seqs are gap-free), then read in one range
   * scan of the primary key. Every message up to that `last_seq` is committed, so the two statements
   * give a consistent page even while appends commit in between.
   */
  async readHistory(channelId: string, query: HistoryQuery): Promise<HistoryPage> {
    const [channel] = await this.rows<{ last_seq: number }>(this.deps.sql.lastSeq, [channelId]);
    const range = pageRange(channel?.last_seq ?? 0, query);
    const rows =
      range.from <= range.to
        ? await this.rows<MessageRow>(this.deps.sql.range, [channelId, range.from, range.to])
        : [];
    return {
      messages: rows.map(toMessage),
      hasMoreBefore: range.hasMoreBefore,
      hasMoreAfter: range.hasMoreAfter,
    };
  }

  async mentionsOf(query: MessageQuery): Promise<Message[]> {
    const limit = Math.max(0, Math.floor(query.limit));
    if (limit === 0) return [];
    const rows = await this.rows<MessageRow>(this.deps.sql.mentionsOf, [
      query.userId,
      query.beforeId ?? null,
      query.channelId ?? null,
      limit,
    ]);
    return rows.map(toMessage);
  }

  async searchMessages(query: MessageQuery & { text: string }): Promise<Message[]> {
    const limit = Math.max(0, Math.floor(query.limit));
    const words = query.text.match(WORDS) ?? [];
    // No words, no match (and no "query contains no lexemes" notice from PostgreSQL).
    if (limit === 0 || words.length === 0) return [];
    const rows = await this.rows<MessageRow>(this.deps.sql.searchMessages, [
      query.userId,
      query.beforeId ?? null,
      query.channelId ?? null,
      limit,
      words.join(' '),
    ]);
    return rows.map(toMessage);
  }

  async syncHead(userId: string): Promise<number> {
    const [row] = await this.rows<{ head: number }>(this.deps.sql.syncHead, [userId]);
    return row?.head ?? 0;
  }

  async readSync(userId: string, after: number, limit: number): Promise<SyncEntry[]> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    const rows = await this.rows<MessageRow & { pos: number; entry: string | null }>(
      this.deps.sql.syncAfter,
      [userId, Math.floor(after), count],
    );
    return rows.map(toSyncEntry);
  }

  private async rows<R extends QueryResultRow>(statement: NamedStatement, values: unknown[]): Promise<R[]> {
    return (await this.deps.pool().query<R>({ ...statement, values })).rows;
  }
}
