import {
  type CommitInput,
  type DeviceRef,
  E2EE_LIMITS,
  ErrorCode,
  type Message,
  NatterError,
  newId,
  type QueuedWelcome,
  type SystemEvent,
} from '@natter/protocol';
import { claimAttachments } from '../chat/attachment-claim.js';
import type { Delivery, DeliverySink } from '../ports/delivery.js';
import type { MediaClaim, MediaPlug } from '../ports/media.js';
import type { E2eeRecord, ModerationWrites } from '../ports/moderation.js';
import type { AppendedMessage, ChatStore, MemberRecord, WriteTransaction } from '../ports/storage.js';
import { unavailable } from './device-directory.js';
import { deviceKey, e2eeKeys } from './keys.js';
import { hashOf, headerOf, requireFramed } from './mls-input.js';

type GroupRecord = Extract<E2eeRecord, { kind: 'e2eeGroup' }>;

const channelNotFound = () => new NatterError(ErrorCode.NOT_FOUND, 'channel not found');
const mismatch = (message: string) => new NatterError(ErrorCode.E2EE_CHANNEL_MISMATCH, message);
const forbidden = (message: string) => new NatterError(ErrorCode.FORBIDDEN, message);

/** Dependencies of {@link EncryptedChannels}. */
export interface EncryptedChannelsOptions {
  chat: ChatStore;
  sink: DeliverySink;
  now: () => number;
  /** Claims the uploads of encrypted files an application message carries; without it those are refused. */
  media?: Pick<MediaPlug, 'claim'>;
}

/** Channels whose encryption is known (it never changes after creation), kept at most. */
const MAX_KNOWN = 50_000;

/**
 * The Delivery Service of encrypted channels (docs/e2ee.md rules 3-7): one commit per epoch in the channel's
 * log order, the GroupInfo of the current epoch, the channel's member devices, Welcomes queued per device,
 * and application messages as opaque log entries. Every acceptance is one store transaction that first reads
 * the channel's group row (its lock in a multi-process store) and then appends under the channel's seq lock,
 * so the epoch check, the increment and the seq allocation cannot interleave with another commit's.
 */
export class EncryptedChannels {
  private readonly known = new Map<string, boolean>();

  constructor(private readonly options: EncryptedChannelsOptions) {}

  /** True when the store keeps the Delivery Service's rows. */
  get available(): boolean {
    return this.options.chat.moderation !== undefined;
  }

  /** Marks a channel being created as encrypted, inside its creating transaction (epoch 0, no device yet). */
  async initialise(tx: WriteTransaction, channelId: string): Promise<void> {
    if (!tx.moderation) throw unavailable();
    const group: GroupRecord = { kind: 'e2eeGroup', channelId, epoch: 0, groupInfo: null, devices: [] };
    await tx.moderation.put(e2eeKeys.group(channelId), group);
  }

  /** Whether a channel is encrypted, from a cache (a channel's encryption is fixed at creation). */
  async isEncrypted(channelId: string): Promise<boolean> {
    const cached = this.known.get(channelId);
    if (cached !== undefined) return cached;
    const reads = this.options.chat.moderation;
    if (!reads) return false;
    // The channel first: its group row is written in the transaction that creates it, so once the channel
    // is seen the row is too, and a plaintext answer cached here can never be wrong.
    const exists = (await this.options.chat.getChannel(channelId)) !== undefined;
    const encrypted = (await reads.get(e2eeKeys.group(channelId)))?.kind === 'e2eeGroup';
    if (exists) {
      if (this.known.size >= MAX_KNOWN) this.known.clear();
      this.known.set(channelId, encrypted);
    }
    return encrypted;
  }

  /** The channel's epoch for its wire shape; undefined for a plaintext channel. */
  async epochOf(channelId: string): Promise<number | undefined> {
    const reads = this.options.chat.moderation;
    if (!reads || !(await this.isEncrypted(channelId))) return undefined;
    const group = await reads.get(e2eeKeys.group(channelId));
    return group?.kind === 'e2eeGroup' ? group.epoch : undefined;
  }

  /** The current GroupInfo, for a member's device joining by external commit. */
  async groupInfo(userId: string, channelId: string): Promise<{ epoch: number; groupInfo: string }> {
    const { chat } = this.options;
    const reads = chat.moderation;
    if (!reads) throw unavailable();
    if (!(await chat.getMember(channelId, userId))) throw channelNotFound();
    const group = await reads.get(e2eeKeys.group(channelId));
    if (group?.kind !== 'e2eeGroup') throw mismatch('the channel is not encrypted');
    if (group.groupInfo === null)
      throw new NatterError(ErrorCode.NOT_FOUND, 'no GroupInfo before the first commit');
    return { epoch: group.epoch, groupInfo: group.groupInfo };
  }

  /**
   * Orders a commit (rule 3): accepted only for the current epoch; appended with the next seq, the epoch
   * raised, the GroupInfo replaced, the device set changed and the Welcome queued, in one transaction. An
   * identical retry answers the original entry; any other commit for a past or future epoch is STALE_EPOCH.
   */
  async commit(
    userId: string,
    deviceId: string,
    channelId: string,
    input: CommitInput,
  ): Promise<{ message: Message; epoch: number }> {
    const { epoch } = requireFramed(input.commit, channelId, 'commit');
    const info = headerOf(input.groupInfo, 'groupInfo');
    if (info.wireFormat !== 'group_info' || info.epoch !== epoch + 1)
      throw new NatterError(
        ErrorCode.BAD_REQUEST,
        "groupInfo must be the GroupInfo of the commit's next epoch",
      );
    if (input.welcome !== undefined && headerOf(input.welcome, 'welcome').wireFormat !== 'welcome')
      throw new NatterError(ErrorCode.BAD_REQUEST, 'welcome is not an MLS Welcome');
    const self = deviceKey({ userId, deviceId });
    const welcomed = unique(input.added).filter((d) => deviceKey(d) !== self);
    if (welcomed.length > 0 && input.welcome === undefined)
      throw new NatterError(ErrorCode.BAD_REQUEST, 'a commit adding other devices needs their Welcome');

    const outcome = await this.options.chat.write(
      async (tx) => {
        const { m, group, members } = await this.openGroup(tx, userId, channelId);
        if (epoch !== group.epoch) {
          const earlier = await m.get(e2eeKeys.commit(channelId, epoch));
          if (earlier?.kind === 'e2eeCommit' && earlier.hash === hashOf(input.commit))
            return { retry: true as const, seq: earlier.seq, epoch: epoch + 1 };
          throw new NatterError(
            ErrorCode.E2EE_STALE_EPOCH,
            `commit for epoch ${epoch}; the channel is in epoch ${group.epoch}`,
          );
        }
        const devices = await this.nextDevices(m, group, members, userId, deviceId, input);
        const event: SystemEvent = {
          action: 'mls_commit',
          actorId: userId,
          deviceId,
          epoch: epoch + 1,
          commit: input.commit,
          added: unique(input.added),
          removed: unique(input.removed),
        };
        const appended = await tx.appendMessage(
          {
            id: newId(this.options.now()),
            channelId,
            senderId: userId,
            clientMsgId: null,
            kind: 'system',
            text: '',
            mentions: [],
            system: event,
            createdAt: this.options.now(),
          },
          members.map((x) => x.userId),
        );
        const seq = appended.message.seq;
        await m.put(e2eeKeys.group(channelId), {
          ...group,
          epoch: epoch + 1,
          groupInfo: input.groupInfo,
          devices,
        });
        await m.put(e2eeKeys.commit(channelId, epoch), {
          kind: 'e2eeCommit',
          hash: hashOf(input.commit),
          seq,
        });
        for (const d of welcomed) await this.enqueue(m, d, channelId, seq, input.welcome!);
        return { retry: false as const, appended, epoch: epoch + 1 };
      },
      { channelId },
    );
    if (outcome.retry) {
      const message = await this.options.chat.getMessage(channelId, outcome.seq);
      if (!message) throw channelNotFound();
      return { message, epoch: outcome.epoch };
    }
    this.dispatch(outcome.appended);
    return { message: outcome.appended.message, epoch: outcome.epoch };
  }

  /**
   * Appends an application message (rule 7) from one of the channel's member devices: the ciphertext of this
   * channel in its current epoch (an older one is STALE_EPOCH). A retry with the same `clientMsgId` answers
   * the original. The sender's uploads it names (encrypted files) are attached to the entry exactly as a
   * plaintext send attaches them (decision 196): claimed first, given back when nothing was stored.
   */
  async send(
    userId: string,
    deviceId: string,
    channelId: string,
    clientMsgId: string,
    ciphertext: string,
    attachments: ReadonlyArray<{ mediaId: string }> = [],
  ): Promise<Message> {
    const { epoch } = requireFramed(ciphertext, channelId, 'application');
    const claim = await claimAttachments(this.options.media, userId, channelId, clientMsgId, attachments);
    let message: Message;
    try {
      message = await this.append(userId, deviceId, channelId, clientMsgId, ciphertext, epoch, claim);
    } catch (error) {
      await claim?.cancel();
      throw error;
    }
    // A retry answers the original entry: its seq is the one the uploads belong to.
    await claim?.commit(message.seq);
    return message;
  }

  private async append(
    userId: string,
    deviceId: string,
    channelId: string,
    clientMsgId: string,
    ciphertext: string,
    epoch: number,
    claim: MediaClaim | undefined,
  ): Promise<Message> {
    const outcome = await this.options.chat.write(
      async (tx) => {
        const earlier = await tx.findByClientMsgId(userId, clientMsgId);
        if (earlier) return { duplicate: true as const, message: earlier.message };
        const { group, members } = await this.openGroup(tx, userId, channelId);
        if (!group.devices.includes(deviceKey({ userId, deviceId })))
          throw forbidden('this device is not a member device of the channel');
        // Only the current epoch: a device that joined in the latest commit could never read a message
        // encrypted for an earlier one. The sender processes the newer commits and encrypts again.
        if (epoch < group.epoch)
          throw new NatterError(
            ErrorCode.E2EE_STALE_EPOCH,
            `ciphertext of epoch ${epoch}; the channel is in epoch ${group.epoch}`,
          );
        if (epoch > group.epoch)
          throw new NatterError(
            ErrorCode.E2EE_WRONG_GROUP,
            `ciphertext of epoch ${epoch}, ahead of the channel's`,
          );
        const appended = await tx.appendMessage(
          {
            id: newId(this.options.now()),
            channelId,
            senderId: userId,
            clientMsgId,
            kind: 'system',
            text: '',
            mentions: [],
            system: { action: 'mls_message', actorId: userId, deviceId, ciphertext },
            createdAt: this.options.now(),
            // Ids, opaque type and sizes only: the files' names, types and keys are inside the ciphertext.
            ...(claim && claim.attachments.length > 0 ? { attachments: claim.attachments } : {}),
          },
          members.map((x) => x.userId),
        );
        return { duplicate: false as const, appended };
      },
      { channelId },
    );
    if (outcome.duplicate) return outcome.message;
    this.dispatch(outcome.appended);
    return outcome.appended.message;
  }

  /** The Welcomes queued for a device, oldest first. */
  async queue(userId: string, deviceId: string): Promise<QueuedWelcome[]> {
    const reads = this.options.chat.moderation;
    if (!reads) throw unavailable();
    const rows = await reads.list(
      e2eeKeys.queueOf(userId, deviceId),
      undefined,
      E2EE_LIMITS.maxQueuedPerDevice,
    );
    return rows.flatMap(({ record }) =>
      record.kind === 'e2eeWelcome'
        ? [
            {
              id: record.id,
              channelId: record.channelId,
              seq: record.seq,
              welcome: record.welcome,
              createdAt: record.createdAt,
            },
          ]
        : [],
    );
  }

  /** Acknowledges one queued Welcome (idempotent). */
  async ack(userId: string, deviceId: string, id: string): Promise<void> {
    await this.options.chat.write(async (tx) => {
      if (!tx.moderation) throw unavailable();
      await tx.moderation.delete(e2eeKeys.welcome(userId, deviceId, id));
    });
  }

  /**
   * Checks that the caller and `userIds` are members of the encrypted channel (for a KeyPackage claim).
   * Non-members, and claims naming them, get the same NOT_FOUND as an unknown channel.
   */
  async requireMembers(
    tx: ModerationWrites,
    channelId: string,
    callerId: string,
    userIds: readonly string[],
  ) {
    const group = await tx.get(e2eeKeys.group(channelId));
    const members = new Set((await this.options.chat.listMembers(channelId)).map((x) => x.userId));
    if (!members.has(callerId)) throw channelNotFound();
    if (group?.kind !== 'e2eeGroup') throw mismatch('the channel is not encrypted');
    if (userIds.some((id) => !members.has(id)))
      throw new NatterError(ErrorCode.NOT_FOUND, 'member not found');
  }

  /** The caller's membership, the group row (locked first) and the members, inside a write. */
  private async openGroup(tx: WriteTransaction, userId: string, channelId: string) {
    const m = tx.moderation;
    if (!m) throw unavailable();
    const group = await m.get(e2eeKeys.group(channelId));
    const members = await tx.listMembers(channelId);
    if (!members.some((x) => x.userId === userId)) throw channelNotFound();
    if (group?.kind !== 'e2eeGroup') throw mismatch('the channel is not encrypted');
    return { m, group, members };
  }

  /**
   * The channel's devices after the commit (rule 4), or a typed refusal. The committer must be a member
   * device, or add itself (an external join or resync), or make the first commit. Added devices must be
   * published devices of members; a device may be removed by its own user, a group admin, or anyone once
   * it was revoked or its user left the channel.
   */
  private async nextDevices(
    m: ModerationWrites,
    group: GroupRecord,
    members: readonly MemberRecord[],
    userId: string,
    deviceId: string,
    input: CommitInput,
  ): Promise<string[]> {
    const self = deviceKey({ userId, deviceId });
    const current = new Set(group.devices);
    const added = unique(input.added).map(deviceKey);
    const removed = unique(input.removed);
    const founding = group.epoch === 0 && current.size === 0;
    if (!current.has(self) && !added.includes(self) && !founding)
      throw forbidden('this device is not a member device of the channel');
    const memberIds = new Map(members.map((x) => [x.userId, x]));
    const admin = memberIds.get(userId)?.role === 'admin';
    for (const d of removed) {
      const key = deviceKey(d);
      if (!current.has(key)) throw forbidden(`device ${key} is not in the channel`);
      if (d.userId === userId || admin || !memberIds.has(d.userId)) continue;
      if ((await m.get(e2eeKeys.device(d.userId, d.deviceId)))?.kind === 'e2eeDevice')
        throw forbidden(`device ${key} is neither revoked nor of a former member`);
    }
    const next = new Set(current);
    for (const d of removed) next.delete(deviceKey(d));
    if (founding) next.add(self);
    for (const d of unique(input.added)) {
      const key = deviceKey(d);
      if (next.has(key)) throw forbidden(`device ${key} is already in the channel`);
      if (!memberIds.has(d.userId)) throw forbidden(`user ${d.userId} is not a member of the channel`);
      if ((await m.get(e2eeKeys.device(d.userId, d.deviceId)))?.kind !== 'e2eeDevice')
        throw forbidden(`device ${key} is not published`);
      next.add(key);
    }
    if (!next.has(self) && !removed.some((d) => deviceKey(d) === self))
      throw forbidden('this device is not a member device of the channel');
    if (next.size > E2EE_LIMITS.maxDevicesPerChannel)
      throw new NatterError(
        ErrorCode.E2EE_LIMIT,
        `an encrypted channel holds at most ${E2EE_LIMITS.maxDevicesPerChannel} devices`,
      );
    return [...next];
  }

  /** Queues a Welcome for a device; a full queue drops its oldest entry (the device can rejoin externally). */
  private async enqueue(m: ModerationWrites, d: DeviceRef, channelId: string, seq: number, welcome: string) {
    const queued = await m.list(
      e2eeKeys.queueOf(d.userId, d.deviceId),
      undefined,
      E2EE_LIMITS.maxQueuedPerDevice,
    );
    if (queued.length >= E2EE_LIMITS.maxQueuedPerDevice) await m.delete(queued[0]!.key);
    const now = this.options.now();
    const id = newId(now);
    await m.put(e2eeKeys.welcome(d.userId, d.deviceId, id), {
      kind: 'e2eeWelcome',
      id,
      channelId,
      seq,
      welcome,
      createdAt: now,
    });
  }

  private dispatch(appended: AppendedMessage): void {
    const deliveries: Delivery[] = appended.positions.map(({ userId, pos }) => ({
      userId,
      entry: { pos, kind: 'message', message: appended.message },
    }));
    this.options.sink.deliver(deliveries);
  }
}

function unique(devices: readonly DeviceRef[]): DeviceRef[] {
  const seen = new Map(devices.map((d) => [deviceKey(d), { userId: d.userId, deviceId: d.deviceId }]));
  return [...seen.values()];
}
