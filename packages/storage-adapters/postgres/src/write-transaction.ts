import type { Message } from '@natter/protocol';
import {
  type AppendedMessage,
  type ChannelRecord,
  type CheckedAppendResult,
  type CheckedSend,
  ErrorCode,
  isNatterError,
  type MemberRecord,
  NatterError,
  type NewMessage,
  type WriteTransaction,
} from '@natter/server-core';
import type { QueryResultRow } from 'pg';
import type { AppendOp } from './append-group.js';
import type { BatchSession } from './batch-session.js';
import { ConcurrentInsert, NeedsExclusive, OutOfTurn } from './errors.js';
import { PgLifecycleWrites } from './lifecycle.js';
import { PgModerationWrites } from './moderation.js';
import { type ChannelRow, type MemberRow, type MessageRow, toChannel, toMember, toMessage } from './rows.js';
import type { NamedStatement, Statements } from './statements.js';
import { encodeOptional, encodeText } from './text.js';

/** How one call's transaction view reaches its batch. */
export interface CallContext {
  session: BatchSession;
  sql: Statements;
  /** The batch holds the store's write lock exclusively (see {@link NeedsExclusive}). */
  exclusive: boolean;
  /**
   * Run appends at once instead of with the next group: a batch of one call, and savepoint reruns,
   * where each call's statements must run between its own SAVEPOINT and RELEASE.
   */
  immediate: boolean;
  /** Called when the call waits for its append's group: the batch may start its next call meanwhile. */
  onPark: () => void;
}

/**
 * The PostgreSQL adapter's {@link WriteTransaction}: one `write()` call's view of its batch's
 * transaction (write-queue.ts). Every method runs SQL on the batch's connection inside its
 * BEGIN ... COMMIT (READ COMMITTED, with row locks where numbers are allocated).
 *
 * Expected failures (unknown channel, a taken key) are detected before anything is stored, so the
 * transaction stays usable when the caller catches them. Any SQL error is remembered: PostgreSQL
 * aborts the transaction, and the write must then fail even if its function swallowed the error (a
 * COMMIT would silently roll back). `wrote` tells the batch whether a failing call left changes.
 */
export class PgWriteTransaction implements WriteTransaction {
  private active = true;
  /** The call's append waited for a group: other calls may have run statements since. */
  private parked = false;
  /** How many messages this call appended. */
  private appends = 0;
  /** The first SQL error of this call; the write rejects with it. */
  failure: { error: unknown } | undefined;
  /** This call changed something (conservatively: it ran a writing statement). */
  wrote = false;
  /**
   * Direct keys this call looked up and did not find. Each statement of a READ COMMITTED transaction
   * sees what committed before it, so a key absent then and taken at insert was committed meanwhile by
   * a concurrent write: a lost race to run again, not a CONFLICT for the caller.
   */
  private absentDirectKeys: Set<string> | undefined;
  /** Edits, deletes, reactions and threads (schema 6), on this call's transaction. */
  readonly lifecycle: PgLifecycleWrites;

  /** Moderation rows; `get` locks its key for the rest of the transaction. */
  readonly moderation: PgModerationWrites;

  constructor(private readonly context: CallContext) {
    this.lifecycle = new PgLifecycleWrites({
      sql: context.sql,
      read: (statement, values) => this.query(statement, values),
      change: (statement, values) => this.change(statement, values),
      raceLost: (message) => this.raceLost(message),
    });
    this.moderation = new PgModerationWrites(context.sql, (statement, values, writes) =>
      writes ? this.change(statement, values) : this.query(statement, values),
    );
  }

  /** Ends the transaction: a leaked reference must not run SQL on a connection back in the pool. */
  end(): void {
    this.active = false;
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    const [row] = await this.query<ChannelRow>(this.context.sql.channel, [channelId]);
    return row && toChannel(row);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    const [row] = await this.query<MemberRow>(this.context.sql.member, [channelId, userId]);
    return row && toMember(row);
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    return (await this.query<MemberRow>(this.context.sql.members, [channelId])).map(toMember);
  }

  async findDirectChannel(directKey: string): Promise<ChannelRecord | undefined> {
    const [row] = await this.query<ChannelRow>(this.context.sql.directChannel, [directKey]);
    if (!row) {
      this.absentDirectKeys ??= new Set();
      this.absentDirectKeys.add(directKey);
    }
    return row && toChannel(row);
  }

  async findByClientMsgId(
    senderId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; senderPos: number } | undefined> {
    const [row] = await this.query<MessageRow & { sender_pos: number }>(this.context.sql.clientMsg, [
      senderId,
      clientMsgId,
    ]);
    return row && { message: toMessage(row), senderPos: row.sender_pos };
  }

  async insertChannel(channel: Omit<ChannelRecord, 'lastSeq'>): Promise<void> {
    const taken = await this.query<{ by_id: boolean }>(this.context.sql.channelTaken, [
      channel.id,
      channel.directKey,
    ]);
    if (taken.length > 0) {
      const keyOnly = taken.every((row) => !row.by_id);
      if (keyOnly && channel.directKey !== null && this.absentDirectKeys?.has(channel.directKey)) {
        this.raceLost(`direct key of channel ${channel.id} was taken after this write looked for it`);
      }
      throw new NatterError(ErrorCode.CONFLICT, `channel ${channel.id} or its direct key already exists`);
    }
    const inserted = await this.change(this.context.sql.insertChannel, [
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
    await this.change(this.context.sql.upsertMember, [
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
    await this.change(this.context.sql.deleteMember, [channelId, userId]);
  }

  async renameChannel(channelId: string, name: string): Promise<void> {
    await this.change(this.context.sql.renameChannel, [encodeText(name), channelId]);
  }

  async raiseReadMarker(channelId: string, userId: string, seq: number): Promise<number> {
    const [row] = await this.change<{ marker: number }>(this.context.sql.raiseReadMarker, [
      seq,
      channelId,
      userId,
    ]);
    return row?.marker ?? 0;
  }

  async raiseDeliveredMarker(channelId: string, userId: string, seq: number): Promise<number> {
    const [row] = await this.change<{ marker: number }>(this.context.sql.raiseDeliveredMarker, [
      seq,
      channelId,
      userId,
    ]);
    return row?.marker ?? 0;
  }

  /**
   * One element of an `append_group` call (schema/append-functions.ts): it takes the channel's row lock
   * before it checks anything, allocates the seq, and advances the sync heads with `INSERT ... ON
   * CONFLICT DO UPDATE` (locking each head row, in user id order); the locks are held until COMMIT. A
   * concurrent append to the same channel or user waits and then reads the committed value, so no
   * entry committed later can get a smaller seq or pos. In a batch of several calls it runs together
   * with the other calls' appends (see {@link appendChecked}).
   */
  async appendMessage(message: NewMessage, recipientIds: readonly string[]): Promise<AppendedMessage> {
    this.countAppend();
    const result = await this.append({ kind: 'plain', message, recipientIds: [...recipientIds] });
    // Only now: a refused append (CONFLICT, NOT_FOUND) stored nothing, so its caller may fail alone.
    this.wrote = true;
    return result as AppendedMessage;
  }

  /**
   * The whole send in one statement. In a batch of several calls the call parks here and the batch
   * starts its next call; the parked appends then run together in one `append_group` call. A call that
   * uses the transaction again after that has let later calls' statements run before its own: the
   * batch then runs again, one call after another (write-queue.ts).
   */
  async appendChecked(send: CheckedSend): Promise<CheckedAppendResult> {
    this.countAppend();
    const result = (await this.append({ kind: 'checked', send })) as CheckedAppendResult;
    if (result.kind === 'appended') this.wrote = true;
    return result;
  }

  /** Runs an append now (savepoint reruns, single calls) or with the batch's next group. */
  private async append(op: AppendOp): Promise<CheckedAppendResult | AppendedMessage> {
    this.ensureUsable();
    const { session } = this.context;
    const pending = session.defer(op);
    // A flush that fails rejects `pending` too, before it is awaited below: handled here, so the
    // failure is reported once (by the flush) and never as an unhandled rejection.
    pending.catch(() => undefined);
    try {
      if (this.context.immediate) {
        await session.flushAppends();
      } else {
        this.parked = true;
        this.context.onPark();
      }
      return await pending;
    } catch (error) {
      // An SQL error aborted the transaction; a refusal (CONFLICT, NOT_FOUND) did not.
      if (!isNatterError(error)) this.failure ??= { error };
      throw error;
    }
  }

  /** A second append without the exclusive lock is run again with it (see {@link NeedsExclusive}). */
  private countAppend(): void {
    if (this.appends++ > 0 && !this.context.exclusive) {
      const error = new NeedsExclusive('a write appending more than one message runs alone');
      this.failure ??= { error };
      throw error;
    }
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

  private ensureUsable(): void {
    if (!this.active) throw new Error('write transaction used after its write() settled');
    if (this.failure) throw this.failure.error;
    if (this.parked) {
      // Other calls' statements ran after this call's append: the batch must run again in call order.
      const error = new OutOfTurn('a write used its transaction after a grouped append');
      this.failure = { error };
      throw error;
    }
  }

  /** Runs a statement that changes data (the batch then knows this call wrote). */
  private change<R extends QueryResultRow = QueryResultRow>(statement: NamedStatement, values: unknown[]) {
    this.ensureUsable();
    this.wrote = true;
    return this.query<R>(statement, values);
  }

  /** Runs one statement, remembering the first SQL error (the transaction is aborted from then on). */
  private async query<R extends QueryResultRow = QueryResultRow>(
    statement: NamedStatement,
    values: unknown[],
  ): Promise<R[]> {
    this.ensureUsable();
    try {
      return await this.context.session.run<R>(statement, values);
    } catch (error) {
      this.failure ??= { error };
      throw error;
    }
  }
}
