import type { Message } from '@natter/protocol';
import type {
  AppendedMessage,
  ChannelRecord,
  CheckedAppendResult,
  CheckedSend,
  MemberRecord,
  NewMessage,
  WriteTransaction,
} from '@natter/server-core';
import type { AppendOperation } from './append.js';
import { appendChecked } from './append-checked.js';
import { conflictOnDuplicate } from './constraint.js';
import { SqliteLifecycleWrites } from './lifecycle.js';
import { SqliteModerationWrites } from './moderation.js';
import { toChannel, toMember, toMessage } from './rows.js';
import type { ReadStatements, WriteStatements } from './statements.js';

/**
 * The SQLite adapter's {@link WriteTransaction}. It runs inside a group-commit batch on the write
 * connection (see write-queue.ts); every method does its SQL synchronously (the promise is only the
 * port's shape), so nothing else can touch the connection in the middle of a method. Each write method
 * reports itself to the queue before writing, so a call that fails after writing is rolled back.
 */
export class SqliteWriteTransaction implements WriteTransaction {
  private active = true;
  readonly lifecycle: SqliteLifecycleWrites;
  readonly moderation: SqliteModerationWrites;

  constructor(
    private readonly reads: ReadStatements,
    private readonly writes: WriteStatements,
    private readonly append: AppendOperation,
    /** Tells the write queue this call wrote (before the first write), see `CallBody`. */
    private readonly markWritten: () => void,
  ) {
    this.lifecycle = new SqliteLifecycleWrites(reads, writes, append, markWritten, () => this.assertActive());
    this.moderation = new SqliteModerationWrites(reads, writes, markWritten, () => this.assertActive());
  }

  /** Ends the transaction: a leaked reference must not write into a later batch. */
  end(): void {
    this.active = false;
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    this.assertActive();
    const row = this.reads.channel.get(channelId);
    return row && toChannel(row);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    this.assertActive();
    const row = this.reads.member.get(channelId, userId);
    return row && toMember(row);
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    this.assertActive();
    return this.reads.members.all(channelId).map(toMember);
  }

  async findDirectChannel(directKey: string): Promise<ChannelRecord | undefined> {
    this.assertActive();
    const row = this.reads.directChannel.get(directKey);
    return row && toChannel(row);
  }

  async findByClientMsgId(
    senderId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; senderPos: number } | undefined> {
    this.assertActive();
    const row = this.reads.clientMsg.get(senderId, clientMsgId);
    return row && { message: toMessage(row), senderPos: row.sender_pos };
  }

  async insertChannel(channel: Omit<ChannelRecord, 'lastSeq'>): Promise<void> {
    this.assertActive();
    this.markWritten();
    conflictOnDuplicate(`channel ${channel.id} or its direct key already exists`, () =>
      this.writes.insertChannel.run(
        channel.id,
        channel.kind,
        channel.name,
        channel.createdBy,
        channel.createdAt,
        channel.directKey,
        channel.createdAt,
      ),
    );
  }

  async upsertMember(member: MemberRecord): Promise<void> {
    this.assertActive();
    this.markWritten();
    this.writes.upsertMember.run(
      member.channelId,
      member.userId,
      member.role,
      member.joinedAt,
      member.joinedSeq,
      member.readSeq,
      member.deliveredSeq,
    );
  }

  async deleteMember(channelId: string, userId: string): Promise<void> {
    this.assertActive();
    this.markWritten();
    this.writes.deleteMember.run(channelId, userId);
  }

  async renameChannel(channelId: string, name: string): Promise<void> {
    this.assertActive();
    this.markWritten();
    this.writes.renameChannel.run(name, channelId);
  }

  async raiseReadMarker(channelId: string, userId: string, seq: number): Promise<number> {
    this.assertActive();
    this.markWritten();
    return this.writes.raiseReadMarker.get(seq, channelId, userId)?.read_seq ?? 0;
  }

  async raiseDeliveredMarker(channelId: string, userId: string, seq: number): Promise<number> {
    this.assertActive();
    this.markWritten();
    return this.writes.raiseDeliveredMarker.get(seq, channelId, userId)?.delivered_seq ?? 0;
  }

  async appendMessage(message: NewMessage, recipientIds: readonly string[]): Promise<AppendedMessage> {
    this.assertActive();
    this.markWritten();
    return this.append(message, recipientIds);
  }

  async appendChecked(send: CheckedSend): Promise<CheckedAppendResult> {
    this.assertActive();
    return appendChecked(this.reads, this.append, this.markWritten, send);
  }

  private assertActive(): void {
    if (!this.active) throw new Error('write transaction used after its write() settled');
  }
}
