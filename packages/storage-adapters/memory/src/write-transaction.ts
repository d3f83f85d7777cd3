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
import { copyMessage, copyOptional, copyRecord } from './copy.js';
import { MemoryLifecycleWrites } from './lifecycle.js';
import { MemoryModerationWrites } from './moderation.js';
import type { Staging } from './staging.js';
import { type ChannelRow, clientMsgKey } from './state.js';

/** Strips the adapter-internal activity time from a channel row. */
export function toChannelRecord(row: ChannelRow): ChannelRecord {
  const { lastActivityAt: _ignored, ...record } = row;
  return record;
}

/**
 * The memory adapter's {@link WriteTransaction}: every change goes into a {@link Staging} overlay
 * that the store commits or drops when the write's function settles.
 */
export class MemoryWriteTransaction implements WriteTransaction {
  private active = true;
  readonly lifecycle: MemoryLifecycleWrites;
  readonly moderation: MemoryModerationWrites;

  constructor(private readonly staging: Staging) {
    this.lifecycle = new MemoryLifecycleWrites(staging, () => this.assertActive());
    this.moderation = new MemoryModerationWrites(staging, () => this.assertActive());
  }

  /** Ends the transaction; later calls throw instead of writing outside any transaction. */
  end(): void {
    this.active = false;
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    this.assertActive();
    const row = this.staging.channel(channelId);
    return row && toChannelRecord(row);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    this.assertActive();
    return copyOptional(this.staging.member(channelId, userId));
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    this.assertActive();
    return this.staging.membersOf(channelId).map(copyRecord);
  }

  async findDirectChannel(directKey: string): Promise<ChannelRecord | undefined> {
    this.assertActive();
    const channelId = this.staging.directChannelId(directKey);
    const row = channelId === undefined ? undefined : this.staging.channel(channelId);
    return row && toChannelRecord(row);
  }

  async findByClientMsgId(
    senderId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; senderPos: number } | undefined> {
    this.assertActive();
    const ref = this.staging.clientMsg(clientMsgKey(senderId, clientMsgId));
    const message = ref && this.staging.message(ref.channelId, ref.seq);
    return ref && message ? { message: copyMessage(message), senderPos: ref.senderPos } : undefined;
  }

  async insertChannel(channel: Omit<ChannelRecord, 'lastSeq'>): Promise<void> {
    this.assertActive();
    if (this.staging.channel(channel.id)) {
      throw new NatterError(ErrorCode.CONFLICT, `channel ${channel.id} already exists`);
    }
    if (channel.directKey !== null && this.staging.directChannelId(channel.directKey) !== undefined) {
      throw new NatterError(ErrorCode.CONFLICT, 'a direct channel for this pair already exists');
    }
    this.staging.channels.set(channel.id, { ...channel, lastSeq: 0, lastActivityAt: channel.createdAt });
    if (channel.directKey !== null) this.staging.directKeys.set(channel.directKey, channel.id);
  }

  async upsertMember(member: MemberRecord): Promise<void> {
    this.assertActive();
    this.staging.setMember(member.channelId, member.userId, copyRecord(member));
  }

  async deleteMember(channelId: string, userId: string): Promise<void> {
    this.assertActive();
    if (this.staging.member(channelId, userId)) this.staging.setMember(channelId, userId, null);
  }

  async renameChannel(channelId: string, name: string): Promise<void> {
    this.assertActive();
    const row = this.staging.channel(channelId);
    if (row) this.staging.channels.set(channelId, { ...row, name });
  }

  async raiseReadMarker(channelId: string, userId: string, seq: number): Promise<number> {
    this.assertActive();
    const member = this.staging.member(channelId, userId);
    if (!member) return 0;
    if (seq > member.readSeq) this.staging.setMember(channelId, userId, { ...member, readSeq: seq });
    return Math.max(seq, member.readSeq);
  }

  async raiseDeliveredMarker(channelId: string, userId: string, seq: number): Promise<number> {
    this.assertActive();
    const member = this.staging.member(channelId, userId);
    if (!member) return 0;
    if (seq > member.deliveredSeq)
      this.staging.setMember(channelId, userId, { ...member, deliveredSeq: seq });
    return Math.max(seq, member.deliveredSeq);
  }

  async appendMessage(message: NewMessage, recipientIds: readonly string[]): Promise<AppendedMessage> {
    this.assertActive();
    const channel = this.staging.channel(message.channelId);
    if (!channel) throw new NatterError(ErrorCode.NOT_FOUND, `channel ${message.channelId} does not exist`);
    const key =
      message.clientMsgId === null ? undefined : clientMsgKey(message.senderId, message.clientMsgId);
    if (key !== undefined && this.staging.clientMsg(key)) {
      throw new NatterError(ErrorCode.CONFLICT, 'the sender already used this clientMsgId');
    }

    const seq = channel.lastSeq + 1;
    const stored: Message = { ...copyMessage(message), seq };
    this.staging.channels.set(channel.id, { ...channel, lastSeq: seq, lastActivityAt: message.createdAt });
    this.staging.appendMessage(stored);
    const positions = recipientIds.map((userId) => ({
      userId,
      pos: this.staging.appendSync(userId, { channelId: channel.id, seq }),
    }));
    if (message.kind === 'text') {
      // A user mentioned twice is indexed once.
      for (const userId of new Set(message.mentions)) {
        this.staging.addMention(userId, { messageId: message.id, channelId: channel.id, seq });
      }
    }
    if (key !== undefined) {
      const senderPos = positions.find((p) => p.userId === message.senderId)?.pos ?? 0;
      this.staging.clientMsgs.set(key, { channelId: channel.id, seq, senderPos });
    }
    return { message: copyMessage(stored), positions };
  }

  private assertActive(): void {
    if (!this.active) throw new Error('write transaction used after its write() settled');
  }
}
