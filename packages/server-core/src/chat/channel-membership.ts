import { type Channel, ErrorCode, NatterError, newPrefixedId, type SystemEvent } from '@natter/protocol';
import type { EncryptedChannels } from '../e2ee/encrypted-channels.js';
import { refuseBanned } from '../moderation/group-moderation.js';
import type { AppendedMessage, ChannelRecord, WriteTransaction } from '../ports/storage.js';
import type { ChatServiceOptions } from './chat-service.js';
import { requireGroupMember } from './require-member.js';
import { systemMessage } from './system-message.js';
import { directKeyOf, toChannel } from './to-wire.js';

interface ChannelMembershipDeps {
  options: Pick<ChatServiceOptions, 'chat' | 'accounts' | 'limits' | 'rules' | 'encryption'>;
  now: () => number;
  /** Sends committed entries (the system messages of each change) to live delivery. */
  dispatch: (appended: AppendedMessage) => void;
  /** The channel as the caller sees it (with `encrypted` and `mlsEpoch`). */
  present: (channel: Channel) => Promise<Channel>;
  /** The channel for a member, after a change. */
  getChannel: (userId: string, channelId: string) => Promise<Channel>;
}

/**
 * Channels made and their members changed: direct channels opened, groups created, members added and
 * removed, groups renamed. Each change commits its system message in the same transaction as the change,
 * so every member's devices learn it in order; the group limit and bans are checked in that transaction.
 */
export class ChannelMembership {
  constructor(private readonly deps: ChannelMembershipDeps) {}

  /**
   * Opens (creating on first use) the direct channel between the caller and `peerId`; with `encrypted` the
   * pair's end-to-end encrypted one, a channel of its own beside the plaintext one.
   */
  async openDirect(userId: string, peerId: string, encrypted = false): Promise<Channel> {
    const encryption = this.requireEncryption(encrypted);
    if (peerId === userId)
      throw new NatterError(ErrorCode.BAD_REQUEST, 'cannot open a direct channel with yourself');
    if (!(await this.deps.options.accounts.getUser(peerId)))
      throw new NatterError(ErrorCode.NOT_FOUND, 'user not found');
    const key = encrypted ? `${directKeyOf(userId, peerId)}|e2ee` : directKeyOf(userId, peerId);
    const existing = await this.deps.options.chat.write(async (tx) => tx.findDirectChannel(key));
    if (existing)
      return this.deps.present(toChannel(existing, await this.deps.options.chat.listMembers(existing.id)));
    const result = await this.deps.options.chat.write(async (tx) => {
      const raced = await tx.findDirectChannel(key);
      if (raced) return { channel: raced, appended: undefined };
      const channel = await this.insertChannel(tx, 'direct', null, userId, [userId, peerId], key, encrypted);
      if (encryption) await encryption.initialise(tx, channel.channel.id);
      return channel;
    });
    if (result.appended) this.deps.dispatch(result.appended);
    return this.deps.present(
      toChannel(result.channel, await this.deps.options.chat.listMembers(result.channel.id)),
    );
  }

  /** Creates a group with the caller as admin. At most `maxGroupMembers` members, the caller included. */
  async createGroup(
    userId: string,
    name: string,
    memberIds: readonly string[],
    by: 'user' | 'app' = 'user',
    encrypted = false,
  ): Promise<Channel> {
    const encryption = this.requireEncryption(encrypted);
    const members = [userId, ...new Set(memberIds.filter((id) => id !== userId))];
    this.checkGroupSize(members.length);
    await this.requireUsers(members.slice(1));
    if (by === 'user') await this.refuseBlockers(userId, members.slice(1));
    const result = await this.deps.options.chat.write(async (tx) => {
      const created = await this.insertChannel(tx, 'group', name, userId, members, null, encrypted);
      if (encryption) await encryption.initialise(tx, created.channel.id);
      return created;
    });
    if (result.appended) this.deps.dispatch(result.appended);
    return this.deps.present(
      toChannel(result.channel, await this.deps.options.chat.listMembers(result.channel.id)),
    );
  }

  /** Adds members to a group; any member may add. Already-present users are ignored. */
  async addMembers(userId: string, channelId: string, memberIds: readonly string[]): Promise<Channel> {
    const wanted = [...new Set(memberIds)];
    await this.requireUsers(wanted);
    // Only users not yet members: answering "not found" for a visible member would reveal the block.
    const present = new Set((await this.deps.options.chat.listMembers(channelId)).map((m) => m.userId));
    await this.refuseBlockers(
      userId,
      wanted.filter((id) => !present.has(id)),
    );
    const appended = await this.deps.options.chat.write(
      async (tx) => {
        const channel = await requireGroupMember(tx, channelId, userId);
        // Ban rows first (their locks), then the members: see refuseBanned.
        await refuseBanned(tx, channelId, wanted);
        const members = await tx.listMembers(channelId);
        const present = new Set(members.map((m) => m.userId));
        const added = wanted.filter((id) => !present.has(id));
        if (added.length === 0) return undefined;
        this.checkGroupSize(members.length + added.length);
        const event: SystemEvent = { action: 'members_added', actorId: userId, memberIds: added };
        const nextSeq = channel.lastSeq + 1;
        for (const id of added) {
          await tx.upsertMember({
            channelId,
            userId: id,
            role: 'member',
            joinedAt: this.deps.now(),
            joinedSeq: nextSeq,
            readSeq: 0,
            deliveredSeq: 0,
          });
        }
        return tx.appendMessage(systemMessage(channelId, userId, event, this.deps.now()), [
          ...present,
          ...added,
        ]);
      },
      { channelId },
    );
    if (appended) this.deps.dispatch(appended);
    return this.deps.getChannel(userId, channelId);
  }

  /** Removes a member from a group (admins only), or leaves it (`memberId === userId`). */
  async removeMember(userId: string, channelId: string, memberId: string): Promise<void> {
    const appended = await this.deps.options.chat.write(
      async (tx) => {
        await requireGroupMember(tx, channelId, userId);
        const members = await tx.listMembers(channelId);
        const actor = members.find((m) => m.userId === userId)!;
        const target = members.find((m) => m.userId === memberId);
        if (!target) throw new NatterError(ErrorCode.NOT_FOUND, 'member not found');
        const leaving = memberId === userId;
        if (!leaving && actor.role !== 'admin')
          throw new NatterError(ErrorCode.FORBIDDEN, 'only admins remove members');
        const event: SystemEvent = leaving
          ? { action: 'member_left', actorId: userId }
          : { action: 'member_removed', actorId: userId, memberId };
        // The removed member receives the event too, so all their devices learn they left.
        const result = await tx.appendMessage(
          systemMessage(channelId, userId, event, this.deps.now()),
          members.map((m) => m.userId),
        );
        await tx.deleteMember(channelId, memberId);
        const rest = members.filter((m) => m.userId !== memberId);
        if (target.role === 'admin' && rest.length > 0 && !rest.some((m) => m.role === 'admin')) {
          // A group never loses its last admin: the longest-standing member takes over.
          const heir = [...rest].sort((a, b) => a.joinedSeq - b.joinedSeq || a.joinedAt - b.joinedAt)[0]!;
          await tx.upsertMember({ ...heir, role: 'admin' });
        }
        return result;
      },
      { channelId },
    );
    this.deps.dispatch(appended);
  }

  /** Renames a group; any member may. */
  async renameGroup(userId: string, channelId: string, name: string): Promise<Channel> {
    const appended = await this.deps.options.chat.write(
      async (tx) => {
        await requireGroupMember(tx, channelId, userId);
        const members = await tx.listMembers(channelId);
        await tx.renameChannel(channelId, name);
        const event: SystemEvent = { action: 'renamed', actorId: userId, name };
        return tx.appendMessage(
          systemMessage(channelId, userId, event, this.deps.now()),
          members.map((m) => m.userId),
        );
      },
      { channelId },
    );
    this.deps.dispatch(appended);
    return this.deps.getChannel(userId, channelId);
  }

  /** The encryption of a channel about to be created: undefined for plaintext; NOT_FOUND without a store for it. */
  private requireEncryption(encrypted: boolean): EncryptedChannels | undefined {
    if (!encrypted) return undefined;
    const encryption = this.deps.options.encryption;
    if (!encryption?.available)
      throw new NatterError(ErrorCode.NOT_FOUND, 'end-to-end encryption is not available on this store');
    return encryption;
  }

  /**
   * A user who blocked the caller is answered as an unknown user when the caller adds them to a group, so
   * the caller learns nothing of the block.
   */
  private async refuseBlockers(userId: string, addedIds: readonly string[]): Promise<void> {
    const blocks = this.deps.options.rules?.blocks;
    if (!blocks) return;
    for (const id of addedIds) {
      if (await blocks.isBlocking(id, userId)) throw new NatterError(ErrorCode.NOT_FOUND, 'user not found');
    }
  }

  private async insertChannel(
    tx: WriteTransaction,
    kind: 'direct' | 'group',
    name: string | null,
    creatorId: string,
    memberIds: readonly string[],
    directKey: string | null,
    encrypted = false,
  ): Promise<{ channel: ChannelRecord; appended: AppendedMessage }> {
    const now = this.deps.now();
    const channel = {
      id: newPrefixedId(kind === 'direct' ? 'd' : 'g', now),
      kind,
      name,
      createdBy: creatorId,
      createdAt: now,
      directKey,
    };
    await tx.insertChannel(channel);
    for (const id of memberIds) {
      const role = kind === 'group' && id === creatorId ? 'admin' : 'member';
      await tx.upsertMember({
        channelId: channel.id,
        userId: id,
        role,
        joinedAt: now,
        joinedSeq: 1,
        readSeq: 0,
        deliveredSeq: 0,
      });
    }
    const event: SystemEvent = {
      action: 'created',
      actorId: creatorId,
      name,
      memberIds: [...memberIds],
      ...(encrypted ? { encrypted: true as const } : {}),
    };
    const appended = await tx.appendMessage(
      systemMessage(channel.id, creatorId, event, this.deps.now()),
      memberIds,
    );
    return { channel: { ...channel, lastSeq: appended.message.seq }, appended };
  }

  private async requireUsers(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const found = await this.deps.options.accounts.getUsers(userIds);
    if (found.length !== new Set(userIds).size) throw new NatterError(ErrorCode.NOT_FOUND, 'user not found');
  }

  private checkGroupSize(size: number): void {
    const max = this.deps.options.limits.maxGroupMembers;
    if (size > max) throw new NatterError(ErrorCode.GROUP_FULL, `a group holds at most ${max} members`);
  }
}
