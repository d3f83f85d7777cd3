import type { Message } from '@natter/protocol';
import type {
  AppendedMessage,
  ChannelRecord,
  CheckedAppendResult,
  CheckedSend,
  LifecycleEntryRecord,
  LifecycleWrites,
  MemberRecord,
  MessageEdit,
  ModerationEntry,
  ModerationRecord,
  ModerationWrites,
  NewMessage,
  ReactionChange,
  WriteTransaction,
} from '@natter/server-core';
import type { DirectKeys } from './direct-keys.js';
import type { SourceFanout } from './fanout.js';
import type { ShardServer } from './server.js';
import { channelOfModerationKey, type ShardMap } from './shard-map.js';
import type { WriteAttempt } from './write-attempt.js';

/** What a sharded transaction reaches. */
export interface ShardedTxDeps {
  servers: readonly ShardServer[];
  map: ShardMap;
  fanouts: readonly SourceFanout[];
  directKeys: DirectKeys;
  home: number;
}

/** Local positions handed to the core, by source server: rewritten to the users' positions after the commit. */
export type HandedPositions = Map<number, Array<Array<{ userId: string; pos: number }>>>;

/**
 * The {@link WriteTransaction} of a sharded write: each call goes to the part of the server holding
 * its channel (or moderation key), opened on first use. Appends return the positions of the channel
 * server's local log (the outbox); the write replaces them with the users' own positions once the
 * fan-out copied them (sharded-chat.ts). Keys without a channel (a sender's idempotency key, a
 * mutation key) live with the channel the write is for: the hint's, else the first one touched.
 */
export class ShardedTx implements WriteTransaction {
  readonly lifecycle: LifecycleWrites;
  readonly moderation: ModerationWrites;
  /** Positions to rewrite after the commit. */
  readonly handed: HandedPositions = new Map();
  private primary: number | undefined;

  constructor(
    private readonly deps: ShardedTxDeps,
    private readonly attempt: WriteAttempt,
    hintChannel: string | undefined,
  ) {
    if (hintChannel !== undefined) this.primary = deps.map.serverOf(hintChannel);
    this.lifecycle = lifecycleOf(this);
    this.moderation = moderationOf(this);
  }

  /** The part of the channel's server. */
  channel(channelId: string): Promise<WriteTransaction> {
    const index = this.deps.map.serverOf(channelId);
    this.primary ??= index;
    return this.attempt.on(this.deps.servers[index]!, channelId);
  }

  /** The part of the server of keys without a channel. */
  primaryPart(): Promise<WriteTransaction> {
    this.primary ??= this.deps.home;
    return this.attempt.on(this.deps.servers[this.primary]!);
  }

  get primaryIndex(): number {
    this.primary ??= this.deps.home;
    return this.primary;
  }

  /** The part holding a moderation key. */
  moderationPart(key: string): Promise<WriteTransaction> {
    const channelId = channelOfModerationKey(key);
    if (channelId !== undefined) return this.channel(channelId);
    return this.attempt.on(this.deps.servers[this.deps.home]!);
  }

  /** Remembers positions of `channelId`'s server's local log, to rewrite after the commit. */
  hand<T extends Array<{ userId: string; pos: number }>>(channelId: string, positions: T): T {
    const source = this.deps.map.serverOf(channelId);
    const list = this.handed.get(source) ?? [];
    list.push(positions);
    this.handed.set(source, list);
    return positions;
  }

  /** A local position of the primary server as the user's position (0 stays 0). */
  async userPosition(source: number, userId: string, localPos: number): Promise<number> {
    if (localPos === 0) return 0;
    return this.deps.fanouts[source]!.positionOf(userId, localPos);
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    return (await this.channel(channelId)).getChannel(channelId);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    return (await this.channel(channelId)).getMember(channelId, userId);
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    return (await this.channel(channelId)).listMembers(channelId);
  }

  async findDirectChannel(directKey: string): Promise<ChannelRecord | undefined> {
    const channelId = await this.deps.directKeys.find(directKey);
    if (channelId === undefined) return undefined;
    const channel = await this.getChannel(channelId);
    return channel?.directKey === directKey ? channel : undefined;
  }

  async findByClientMsgId(
    senderId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; senderPos: number } | undefined> {
    const source = this.primaryIndex;
    const found = await (await this.primaryPart()).findByClientMsgId(senderId, clientMsgId);
    if (!found) return undefined;
    return { message: found.message, senderPos: await this.userPosition(source, senderId, found.senderPos) };
  }

  async insertChannel(channel: Omit<ChannelRecord, 'lastSeq'>): Promise<void> {
    const part = await this.channel(channel.id);
    if (channel.directKey !== null)
      await this.deps.directKeys.claim(this.attempt, channel.directKey, channel.id);
    await part.insertChannel(channel);
  }

  async upsertMember(member: MemberRecord): Promise<void> {
    await (await this.channel(member.channelId)).upsertMember(member);
  }

  async deleteMember(channelId: string, userId: string): Promise<void> {
    await (await this.channel(channelId)).deleteMember(channelId, userId);
  }

  async renameChannel(channelId: string, name: string): Promise<void> {
    await (await this.channel(channelId)).renameChannel(channelId, name);
  }

  async raiseReadMarker(channelId: string, userId: string, seq: number): Promise<number> {
    return (await this.channel(channelId)).raiseReadMarker(channelId, userId, seq);
  }

  async raiseDeliveredMarker(channelId: string, userId: string, seq: number): Promise<number> {
    return (await this.channel(channelId)).raiseDeliveredMarker(channelId, userId, seq);
  }

  async appendMessage(message: NewMessage, recipientIds: readonly string[]): Promise<AppendedMessage> {
    const appended = await (await this.channel(message.channelId)).appendMessage(message, recipientIds);
    this.hand(message.channelId, appended.positions);
    return appended;
  }

  async appendChecked(send: CheckedSend): Promise<CheckedAppendResult> {
    const part = await this.channel(send.channelId);
    const result = await part.appendChecked!(send);
    if (result.kind === 'appended') this.hand(send.channelId, result.appended.positions);
    if (result.kind !== 'duplicate') return result;
    const source = this.deps.map.serverOf(send.channelId);
    return { ...result, senderPos: await this.userPosition(source, send.senderId, result.senderPos) };
  }
}

function lifecycleOf(tx: ShardedTx): LifecycleWrites {
  const on = async (channelId: string) => (await tx.channel(channelId)).lifecycle!;
  return {
    getMessage: async (channelId: string, seq: number) => (await on(channelId)).getMessage(channelId, seq),
    editMessage: async (channelId: string, seq: number, edit: MessageEdit) =>
      (await on(channelId)).editMessage(channelId, seq, edit),
    eraseMessage: async (channelId: string, seq: number, deletedAt: number, deletedBy: string) =>
      (await on(channelId)).eraseMessage(channelId, seq, deletedAt, deletedBy),
    countThreadReply: async (channelId: string, rootSeq: number, at: number, replySeq: number) =>
      (await on(channelId)).countThreadReply(channelId, rootSeq, at, replySeq),
    setReaction: async (change: ReactionChange) => (await on(change.channelId)).setReaction(change),
    reactionEmojis: async (channelId: string, seq: number) =>
      (await on(channelId)).reactionEmojis(channelId, seq),
    appendEntry: async (entry: LifecycleEntryRecord, recipientIds: readonly string[]) =>
      tx.hand(entry.channelId, await (await on(entry.channelId)).appendEntry(entry, recipientIds)),
    findMutation: async (userId: string, clientId: string) => {
      const source = tx.primaryIndex;
      const pos = await (await tx.primaryPart()).lifecycle!.findMutation(userId, clientId);
      return pos === undefined ? undefined : tx.userPosition(source, userId, pos);
    },
    recordMutation: async (userId: string, clientId: string, pos: number) =>
      (await tx.primaryPart()).lifecycle!.recordMutation(userId, clientId, pos),
  };
}

function moderationOf(tx: ShardedTx): ModerationWrites {
  const on = async (key: string) => (await tx.moderationPart(key)).moderation!;
  return {
    get: async (key: string): Promise<ModerationRecord | undefined> => (await on(key)).get(key),
    list: async (prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> =>
      (await on(prefix)).list(prefix, after, limit),
    put: async (key: string, record: ModerationRecord) => (await on(key)).put(key, record),
    delete: async (key: string) => (await on(key)).delete(key),
  };
}
