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
import { findClientMessage, findMutationKey } from './keys.js';
import { RestartWrite } from './part.js';
import type { ShardServer } from './server.js';
import { channelOfModerationKey, type ShardMap } from './shard-map.js';
import type { WriteAttempt } from './write-attempt.js';
import type { WriteGate } from './write-gate.js';

/** What a sharded transaction reaches. */
export interface ShardedTxDeps {
  servers: readonly ShardServer[];
  map: ShardMap;
  fanouts: readonly SourceFanout[];
  directKeys: DirectKeys;
  home: number;
  gate: WriteGate;
}

/**
 * Local positions handed to the core, by source server, rewritten to the users' positions after the
 * commit: position lists of appends (an entry whose user's server failed is dropped from its list)
 * and single positions (a key found for an entry of this very write).
 */
export interface Handed {
  lists: Array<Array<{ userId: string; pos: number }>>;
  single: Array<{ userId: string; localPos: number; set: (pos: number) => void }>;
}
export type HandedPositions = Map<number, Handed>;

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
  /** Direct keys this attempt looked up and did not find (see DirectKeys.claim). */
  private absentDirectKeys: Set<string> | undefined;

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
    return this.attempt.on(this.deps.servers[index]!);
  }

  /** The part of the server of keys without a channel. */
  primaryPart(): Promise<WriteTransaction> {
    this.primary ??= this.deps.home;
    return this.attempt.on(this.deps.servers[this.primary]!);
  }

  /** True once the write is for a channel (hinted, or one touched). */
  get hasPrimary(): boolean {
    return this.primary !== undefined;
  }

  get servers(): readonly ShardServer[] {
    return this.deps.servers;
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
    const handed = this.handedOf(this.deps.map.serverOf(channelId));
    handed.lists.push(positions);
    return positions;
  }

  private handedOf(source: number): Handed {
    let handed = this.handed.get(source);
    if (!handed) {
      handed = { lists: [], single: [] };
      this.handed.set(source, handed);
    }
    return handed;
  }

  /**
   * A local position of `source` as the user's position (0 stays 0), through `set`. An entry of this
   * write is copied only after the commit: `set` is called then. An entry of a concurrent write not
   * committed yet (its send in the same batch) makes this write run again once it is.
   */
  async userPosition(
    source: number,
    userId: string,
    localPos: number,
    set: (pos: number) => void,
  ): Promise<void> {
    if (localPos === 0) return set(0);
    const handed = this.handed.get(source);
    if (handed?.lists.some((list) => list.some((p) => p.userId === userId && p.pos === localPos))) {
      set(localPos);
      handed.single.push({ userId, localPos, set });
      return;
    }
    const pos = await this.deps.fanouts[source]!.positionOf(userId, localPos);
    if (pos === undefined) throw new RestartWrite('the key belongs to a write not committed yet', 5);
    set(pos);
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
    const channel = channelId === undefined ? undefined : await this.getChannel(channelId);
    if (channel?.directKey === directKey) return channel;
    this.absentDirectKeys ??= new Set();
    this.absentDirectKeys.add(directKey);
    return undefined;
  }

  async findByClientMsgId(
    senderId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; senderPos: number } | undefined> {
    // A write for no channel yet: the key may be on any server (committed rows).
    const primary = this.primary;
    const found =
      primary === undefined
        ? await findClientMessage(this.deps.servers, senderId, clientMsgId)
        : await (await this.primaryPart()).findByClientMsgId(senderId, clientMsgId);
    if (!found) return undefined;
    const result = { message: found.message, senderPos: found.senderPos };
    const source = 'server' in found ? (found.server as number) : primary!;
    await this.userPosition(source, senderId, found.senderPos, (pos) => {
      result.senderPos = pos;
    });
    return result;
  }

  async insertChannel(channel: Omit<ChannelRecord, 'lastSeq'>): Promise<void> {
    const part = await this.channel(channel.id);
    if (channel.directKey !== null)
      await this.deps.directKeys.claim(
        this.attempt,
        channel.directKey,
        channel.id,
        this.absentDirectKeys?.has(channel.directKey),
      );
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
    const duplicate = { ...result };
    await this.userPosition(
      this.deps.map.serverOf(send.channelId),
      send.senderId,
      result.senderPos,
      (pos) => {
        duplicate.senderPos = pos;
      },
    );
    return duplicate;
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
      const found = tx.hasPrimary
        ? await (await tx.primaryPart()).lifecycle!.findMutation(userId, clientId)
        : await findMutationKey(tx.servers, userId, clientId);
      if (found === undefined) return undefined;
      const local = typeof found === 'number' ? found : found.pos;
      const source = typeof found === 'number' ? tx.primaryIndex : found.server;
      let pos = local;
      await tx.userPosition(source, userId, local, (p) => {
        pos = p;
      });
      return pos;
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
