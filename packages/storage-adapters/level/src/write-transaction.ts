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
import { key, prefix } from './keys.js';
import { LevelLifecycleWrites } from './lifecycle.js';
import { LevelModerationWrites } from './moderation.js';
import type { StagedView } from './staging.js';
import { type ChannelValue, type ClientMsgValue, type MessageRef, toChannelRecord } from './values.js';

/**
 * The LevelDB adapter's {@link WriteTransaction}: reads through a {@link StagedView}, writes into the
 * call's own staged changes, which the write queue commits with its batch or drops.
 */
export class LevelWriteTransaction implements WriteTransaction {
  private active = true;

  readonly lifecycle: LevelLifecycleWrites;
  readonly moderation: LevelModerationWrites;

  constructor(private readonly view: StagedView) {
    this.lifecycle = new LevelLifecycleWrites(view, () => this.assertActive());
    this.moderation = new LevelModerationWrites(view, () => this.assertActive());
  }

  /** Ends the transaction: a leaked reference must not write into a later batch. */
  end(): void {
    this.active = false;
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    this.assertActive();
    const value = await this.view.get<ChannelValue>(key.channel(channelId));
    return value && toChannelRecord(value);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    this.assertActive();
    return this.view.get<MemberRecord>(key.member(channelId, userId));
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    this.assertActive();
    return this.view.range<MemberRecord>(prefix.members(channelId));
  }

  async findDirectChannel(directKey: string): Promise<ChannelRecord | undefined> {
    this.assertActive();
    const channelId = await this.view.get<string>(key.direct(directKey));
    return channelId === undefined ? undefined : this.getChannel(channelId);
  }

  async findByClientMsgId(
    senderId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; senderPos: number } | undefined> {
    this.assertActive();
    const ref = await this.view.get<ClientMsgValue>(key.clientMsg(senderId, clientMsgId));
    const message = ref && (await this.view.get<Message>(key.message(ref.channelId, ref.seq)));
    return ref && message ? { message, senderPos: ref.senderPos } : undefined;
  }

  async insertChannel(channel: Omit<ChannelRecord, 'lastSeq'>): Promise<void> {
    this.assertActive();
    if (await this.view.get(key.channel(channel.id))) {
      throw new NatterError(ErrorCode.CONFLICT, `channel ${channel.id} already exists`);
    }
    if (channel.directKey !== null && (await this.view.get(key.direct(channel.directKey))) !== undefined) {
      throw new NatterError(ErrorCode.CONFLICT, 'a direct channel for this pair already exists');
    }
    const value: ChannelValue = {
      id: channel.id,
      kind: channel.kind,
      name: channel.name,
      createdBy: channel.createdBy,
      createdAt: channel.createdAt,
      lastSeq: 0,
      directKey: channel.directKey,
      lastActivityAt: channel.createdAt,
    };
    this.view.put(key.channel(channel.id), value);
    if (channel.directKey !== null) this.view.put(key.direct(channel.directKey), channel.id);
  }

  async upsertMember(member: MemberRecord): Promise<void> {
    this.assertActive();
    const record: MemberRecord = {
      channelId: member.channelId,
      userId: member.userId,
      role: member.role,
      joinedAt: member.joinedAt,
      joinedSeq: member.joinedSeq,
      readSeq: member.readSeq,
      deliveredSeq: member.deliveredSeq,
    };
    this.view.put(key.member(member.channelId, member.userId), record);
    this.view.put(key.memberOfUser(member.userId, member.channelId), 1);
  }

  async deleteMember(channelId: string, userId: string): Promise<void> {
    this.assertActive();
    this.view.del(key.member(channelId, userId));
    this.view.del(key.memberOfUser(userId, channelId));
  }

  async renameChannel(channelId: string, name: string): Promise<void> {
    this.assertActive();
    const value = await this.view.get<ChannelValue>(key.channel(channelId));
    if (value) this.view.put(key.channel(channelId), { ...value, name });
  }

  async raiseReadMarker(channelId: string, userId: string, seq: number): Promise<number> {
    this.assertActive();
    return this.raiseMarker(channelId, userId, seq, 'readSeq');
  }

  async raiseDeliveredMarker(channelId: string, userId: string, seq: number): Promise<number> {
    this.assertActive();
    return this.raiseMarker(channelId, userId, seq, 'deliveredSeq');
  }

  /**
   * Everything that can fail is checked before anything is staged, so an append that throws leaves
   * nothing behind even when the caller catches the error and goes on with the write.
   */
  async appendMessage(message: NewMessage, recipientIds: readonly string[]): Promise<AppendedMessage> {
    this.assertActive();
    const channel = await this.view.get<ChannelValue>(key.channel(message.channelId));
    if (!channel) throw new NatterError(ErrorCode.NOT_FOUND, `channel ${message.channelId} does not exist`);
    const clientKey =
      message.clientMsgId === null ? undefined : key.clientMsg(message.senderId, message.clientMsgId);
    if (clientKey !== undefined && (await this.view.get(clientKey)) !== undefined) {
      throw new NatterError(ErrorCode.CONFLICT, 'the sender already used this clientMsgId');
    }

    // The writer loop runs one call at a time and commits in order, so reading the counters here and
    // writing them back is allocation under the store's (only) write lock.
    const seq = channel.lastSeq + 1;
    const heads = new Map<string, number>();
    for (const userId of new Set(recipientIds)) {
      heads.set(userId, (await this.view.get<number>(key.syncHead(userId))) ?? 0);
    }
    const ref: MessageRef = [channel.id, seq];
    const positions = recipientIds.map((userId) => {
      const pos = heads.get(userId)! + 1;
      heads.set(userId, pos);
      this.view.put(key.sync(userId, pos), ref);
      return { userId, pos };
    });
    for (const [userId, head] of heads) this.view.put(key.syncHead(userId), head);

    const stored: Message = { ...structuredClone(message), seq };
    this.view.put(key.channel(channel.id), { ...channel, lastSeq: seq, lastActivityAt: message.createdAt });
    this.view.put(key.message(channel.id, seq), stored);
    if (message.kind === 'text') {
      for (const userId of new Set(message.mentions)) this.view.put(key.mention(userId, message.id), ref);
    }
    if (clientKey !== undefined) {
      const senderPos = positions.find((p) => p.userId === message.senderId)?.pos ?? 0;
      const value: ClientMsgValue = { channelId: channel.id, seq, senderPos };
      this.view.put(clientKey, value);
    }
    return { message: structuredClone(stored), positions };
  }

  private async raiseMarker(
    channelId: string,
    userId: string,
    seq: number,
    marker: 'readSeq' | 'deliveredSeq',
  ): Promise<number> {
    const member = await this.view.get<MemberRecord>(key.member(channelId, userId));
    if (!member) return 0;
    if (seq > member[marker]) this.view.put(key.member(channelId, userId), { ...member, [marker]: seq });
    return Math.max(seq, member[marker]);
  }

  private assertActive(): void {
    if (!this.active) throw new Error('write transaction used after its write() settled');
  }
}
