import type { Message } from '@natter/protocol';
import {
  type AppendedMessage,
  type ChannelRecord,
  ErrorCode,
  type MemberRecord,
  NatterError,
  type NewMessage,
  type WriteTransaction,
} from '@natter/server-core';
import type { PoolClient, QueryResultRow } from 'pg';
import { ConcurrentInsert, NeedsExclusive } from './errors.js';
import { type ChannelRow, type MemberRow, type MessageRow, toChannel, toMember, toMessage } from './rows.js';
import type { Statements } from './statements.js';
import { encodeOptional, encodeText } from './text.js';

/**
 * The PostgreSQL adapter's {@link WriteTransaction}: every method runs SQL on the write's own pooled
 * connection inside its BEGIN ... COMMIT (READ COMMITTED, with row locks where numbers are allocated).
 *
 * Expected failures (unknown channel, a taken key) are detected by a query before the statement that
 * would fail, so the transaction stays usable when the caller catches them. Any SQL error is
 * remembered: PostgreSQL aborts the transaction, and the write must then fail even if its function
 * swallowed the error (a COMMIT would silently roll back).
 */
export class PgWriteTransaction implements WriteTransaction {
  private active = true;
  /** How many messages this transaction appended. */
  private appends = 0;
  /** The first SQL error of this transaction; the write rejects with it. */
  failure: { error: unknown } | undefined;

  constructor(
    private readonly client: PoolClient,
    private readonly sql: Statements,
    /** The write holds the store's write lock exclusively (see {@link NeedsExclusive}). */
    private readonly exclusive: boolean,
  ) {}

  /** Ends the transaction: a leaked reference must not run SQL on a connection back in the pool. */
  end(): void {
    this.active = false;
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    const [row] = await this.query<ChannelRow>(this.sql.channel, [channelId]);
    return row && toChannel(row);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    const [row] = await this.query<MemberRow>(this.sql.member, [channelId, userId]);
    return row && toMember(row);
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    return (await this.query<MemberRow>(this.sql.members, [channelId])).map(toMember);
  }

  async findDirectChannel(directKey: string): Promise<ChannelRecord | undefined> {
    const [row] = await this.query<ChannelRow>(this.sql.directChannel, [directKey]);
    return row && toChannel(row);
  }

  async findByClientMsgId(
    senderId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; senderPos: number } | undefined> {
    const [row] = await this.query<MessageRow & { sender_pos: number }>(this.sql.clientMsg, [
      senderId,
      clientMsgId,
    ]);
    return row && { message: toMessage(row), senderPos: row.sender_pos };
  }

  async insertChannel(channel: Omit<ChannelRecord, 'lastSeq'>): Promise<void> {
    const taken = await this.query(this.sql.channelTaken, [channel.id, channel.directKey]);
    if (taken.length > 0) {
      throw new NatterError(ErrorCode.CONFLICT, `channel ${channel.id} or its direct key already exists`);
    }
    const inserted = await this.query(this.sql.insertChannel, [
      channel.id,
      channel.kind,
      encodeOptional(channel.name),
      channel.createdBy,
      channel.createdAt,
      channel.directKey,
    ]);
    // Free when checked, taken now: a concurrent transaction committed the same id or direct key.
    if (inserted.length === 0) this.raceLost(`channel ${channel.id} or its direct key was taken meanwhile`);
  }

  async upsertMember(member: MemberRecord): Promise<void> {
    await this.query(this.sql.upsertMember, [
      member.channelId,
      member.userId,
      member.role,
      member.joinedAt,
      member.joinedSeq,
      member.readSeq,
      member.deliveredSeq,
    ]);
  }

  async deleteMember(channelId: string, userId: string): Promise<void> {
    await this.query(this.sql.deleteMember, [channelId, userId]);
  }

  async renameChannel(channelId: string, name: string): Promise<void> {
    await this.query(this.sql.renameChannel, [encodeText(name), channelId]);
  }

  async raiseReadMarker(channelId: string, userId: string, seq: number): Promise<number> {
    const [row] = await this.query<{ marker: number }>(this.sql.raiseReadMarker, [seq, channelId, userId]);
    return row?.marker ?? 0;
  }

  async raiseDeliveredMarker(channelId: string, userId: string, seq: number): Promise<number> {
    const [row] = await this.query<{ marker: number }>(this.sql.raiseDeliveredMarker, [
      seq,
      channelId,
      userId,
    ]);
    return row?.marker ?? 0;
  }

  /**
   * `UPDATE channels ... RETURNING last_seq` takes the channel's row lock, and the sync heads are
   * advanced with `INSERT ... ON CONFLICT DO UPDATE` (locking each head row); both locks are held until
   * COMMIT. A concurrent append to the same channel or user waits and then reads the committed value,
   * so no entry committed later can get a smaller seq or pos.
   */
  async appendMessage(message: NewMessage, recipientIds: readonly string[]): Promise<AppendedMessage> {
    const { sql } = this;
    if (this.appends++ > 0 && !this.exclusive) {
      // A second append would take a channel lock while holding the head locks of the first: a lock
      // order that deadlocks with other appenders. The write runs again, alone.
      const error = new NeedsExclusive('a write appending more than one message runs alone');
      this.failure ??= { error };
      throw error;
    }
    if (message.clientMsgId !== null) {
      const taken = await this.query(sql.clientMsgTaken, [message.senderId, message.clientMsgId]);
      if (taken.length > 0)
        throw new NatterError(ErrorCode.CONFLICT, 'the sender already used this clientMsgId');
    }
    const [allocated] = await this.query<{ last_seq: number }>(sql.nextSeq, [
      message.createdAt,
      message.channelId,
    ]);
    if (!allocated) throw new NatterError(ErrorCode.NOT_FOUND, `channel ${message.channelId} does not exist`);
    const seq = allocated.last_seq;

    await this.query(sql.insertMessage, [
      message.channelId,
      seq,
      message.id,
      message.senderId,
      message.clientMsgId,
      message.kind,
      encodeText(message.text),
      JSON.stringify(message.mentions),
      message.system === null ? null : JSON.stringify(message.system),
      message.createdAt,
    ]);
    if (message.kind === 'text' && message.mentions.length > 0) {
      await this.query(sql.insertMentions, [message.mentions, message.id, message.channelId, seq]);
    }

    // The sync heads last: their row locks are the ones every append to these users waits for.
    const counts = new Map<string, number>();
    for (const userId of recipientIds) counts.set(userId, (counts.get(userId) ?? 0) + 1);
    const heads = new Map<string, number>();
    if (counts.size > 0) {
      const rows = await this.query<{ user_id: string; head: number }>(sql.advanceHeads, [
        [...counts.keys()],
        [...counts.values()],
        message.channelId,
        seq,
      ]);
      // A user listed n times got n positions, head - n + 1 .. head, handed out in recipient order.
      for (const row of rows) heads.set(row.user_id, row.head - counts.get(row.user_id)!);
    }
    const positions = recipientIds.map((userId) => {
      const pos = heads.get(userId)! + 1;
      heads.set(userId, pos);
      return { userId, pos };
    });
    if (message.clientMsgId !== null) {
      const senderPos = positions.find((p) => p.userId === message.senderId)?.pos ?? 0;
      const inserted = await this.query(sql.insertClientMsg, [
        message.senderId,
        message.clientMsgId,
        message.channelId,
        seq,
        senderPos,
      ]);
      if (inserted.length === 0) this.raceLost('the sender used this clientMsgId in a concurrent write');
    }
    const stored: Message = {
      id: message.id,
      channelId: message.channelId,
      seq,
      senderId: message.senderId,
      clientMsgId: message.clientMsgId,
      kind: message.kind,
      text: message.text,
      mentions: [...message.mentions],
      system: message.system === null ? null : structuredClone(message.system),
      createdAt: message.createdAt,
    };
    return { message: stored, positions };
  }

  /**
   * A concurrent transaction committed a unique key this one checked was free. The write is run again
   * (its function then sees that row); recording it as the failure makes that happen even when the
   * function catches the error, so nothing of a half-done call can commit.
   */
  private raceLost(message: string): never {
    const error = new ConcurrentInsert(message);
    this.failure ??= { error };
    throw error;
  }

  /** Runs one statement, remembering the first SQL error (the transaction is aborted from then on). */
  private async query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<R[]> {
    if (!this.active) throw new Error('write transaction used after its write() settled');
    if (this.failure) throw this.failure.error;
    try {
      return (await this.client.query<R>(text, values)).rows;
    } catch (error) {
      this.failure ??= { error };
      throw error;
    }
  }
}
