// Types only: the MLS engine (ts-mls, ~250 KB) is imported when an app turns E2EE on (persisted-engine.ts),
// so apps that never do so do not download it.
import type { DeviceRef, MlsEngine, PendingCommit } from '@natter/e2ee';
import {
  type Channel,
  ErrorCode,
  type Message,
  type MessageEntry,
  NatterError,
  newId,
} from '@natter/protocol';
import { fromBase64 } from '../base64.js';
import { errorCodeOf } from '../errors.js';
import type { HttpClient } from '../http.js';
import type { ClientStore } from '../store.js';
import type { EntrySource } from '../sync.js';
import type { DeliveryClient } from './delivery-client.js';
import { createDeviceAuthenticator } from './device-authenticator.js';
import { isE2eeCode, sameDevice } from './device-ref.js';
import type { DecryptionFailedEvent } from './events.js';
import { KeyPackageStock } from './key-package-stock.js';
import { decodePayload, type EncryptedPayload, encodePayload } from './payload.js';
import { openPersistedEngine } from './persisted-engine.js';
import { type ReadEncryptedMessage, type ReadEntries, undecryptable } from './read-entries.js';

/** Extra facts of a message that arrived end-to-end encrypted. */
export interface EncryptedMessageInfo {
  /** The device that sent it, authenticated by its MLS signature (checked against the published device list). */
  sender: DeviceRef;
  /** The decrypted content (text, mentions, encrypted attachment references, or a change of another message). */
  payload: EncryptedPayload;
}

/** What the encrypted-channel part needs from the client around it. */
export interface EncryptedChannelsDeps {
  http: HttpClient;
  delivery: DeliveryClient;
  store: ClientStore;
  /** Emits a decrypted message (as a `text` message, with its `text` after decryption). */
  /** A decrypted message or change; awaited, so changes apply in log order. */
  onMessage(
    entry: MessageEntry,
    message: Message,
    info: EncryptedMessageInfo,
    source: EntrySource,
  ): void | Promise<void>;
  onDecryptionFailed(event: DecryptionFailedEvent): void;
  onError(err: Error): void;
  /** What this device read, kept in its store: an entry is decrypted once, then replayed from here. */
  read: ReadEntries;
  /** Single-use KeyPackages kept on the server. @default 50 */
  keyPackageTarget?: number;
}

/** One planned commit: how to make it, and the devices it removes (and adds, when not its Welcome's). */
interface CommitStep {
  removed: readonly DeviceRef[];
  /** An external join names the joining device itself (it has no Welcome). @default the Welcome's recipients */
  added?: readonly DeviceRef[];
  make: () => Promise<PendingCommit>;
}

/** Retries of a change that lost the epoch race before it is given up. */
const MAX_COMMIT_ATTEMPTS = 5;
const utf8 = new TextEncoder();

/**
 * End-to-end encrypted channels for one device: the engine (persisted in the client store), the device's
 * publication and KeyPackage stock, the Welcome queue, membership changes as MLS commits in the server's
 * order, and encryption of sends and decryption of log entries. Every engine-touching step runs in one queue,
 * in log order, so a commit is never applied out of order and a change never races a commit being read.
 */
export class EncryptedChannels {
  private engine: MlsEngine | undefined;
  private self: DeviceRef | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Plaintext of this device's own sends by clientMsgId: MLS cannot decrypt a device's own messages. */
  private readonly sent = new Map<string, EncryptedPayload>();
  private readonly authenticator;
  private stock: KeyPackageStock | undefined;

  constructor(private readonly deps: EncryptedChannelsDeps) {
    this.authenticator = createDeviceAuthenticator((userId) => deps.delivery.listDevices(userId));
  }

  /** This device's engine, once `start` ran (fingerprints: `deviceFingerprint(engine.identity)`). */
  get mls(): MlsEngine | undefined {
    return this.engine;
  }

  /** True when this device is in the channel's MLS group. */
  has(channelId: string): boolean {
    return this.engine?.groups().includes(channelId) ?? false;
  }

  /**
   * Opens (or makes) this device's engine, publishes the device, stocks KeyPackages, and joins the channels
   * whose Welcome waits in the device's queue. Idempotent per device.
   */
  start(device: DeviceRef): Promise<void> {
    return this.serial(async () => {
      if (this.engine && this.self && sameDevice(this.self, device)) return;
      this.engine = await openPersistedEngine({
        store: this.deps.store,
        device,
        authenticate: this.authenticator,
      });
      this.self = device;
      await this.deps.delivery.publishDevice(this.engine.identity.signaturePublicKey);
      this.stock = new KeyPackageStock(this.engine, this.deps.delivery, this.deps.store, {
        metaKey: `e2ee.lastResort.${device.userId}/${device.deviceId}`,
        target: this.deps.keyPackageTarget ?? 50,
        low: Math.min(10, this.deps.keyPackageTarget ?? 50),
      });
      await this.stock.replenish();
      await this.joinFromQueue();
      await this.joinMissing();
    });
  }

  /**
   * Makes the MLS group of a new encrypted channel and adds every device of its members (this user's other
   * devices too); a member without a published device joins later by external commit.
   */
  establish(channel: Channel): Promise<void> {
    return this.serial(async () => {
      const engine = this.requireEngine();
      if (engine.groups().includes(channel.id)) return;
      await engine.createGroup(channel.id);
      await this.addUsersNow(channel.id, channel.memberIds, true);
    });
  }

  /** Adds every published device of `userIds` (already members on the server) to the channel's group. */
  addUsers(channelId: string, userIds: readonly string[]): Promise<void> {
    return this.serial(() => this.addUsersNow(channelId, userIds, false));
  }

  /** Removes every device of `userId` from the channel's group (after the server removed the member). */
  removeUser(channelId: string, userId: string): Promise<void> {
    return this.serial(async () => {
      const engine = this.requireEngine();
      await this.change(channelId, () => {
        const devices = engine.members(channelId).filter((m) => m.userId === userId && !m.self);
        return devices.length > 0
          ? { removed: devices, make: () => engine.removeDevices(channelId, devices) }
          : undefined;
      });
    });
  }

  /** Revokes one of this user's other devices: unpublished on the server, then removed from every group. */
  async revokeDevice(deviceId: string): Promise<void> {
    const self = this.requireSelf();
    await this.deps.delivery.revokeDevice(deviceId);
    await this.serial(async () => {
      const engine = this.requireEngine();
      const gone = { userId: self.userId, deviceId };
      for (const channelId of engine.groups()) {
        await this.change(channelId, () =>
          engine.members(channelId).some((m) => sameDevice(m, gone))
            ? { removed: [gone], make: () => engine.removeDevices(channelId, [gone]) }
            : undefined,
        );
      }
    });
  }

  /**
   * Joins an encrypted channel this device is not in yet (a new device of a member that nobody added) by an
   * external commit with the channel's stored GroupInfo. It reads what is sent after it joined.
   */
  joinExternally(channelId: string): Promise<void> {
    return this.serial(async () => {
      const engine = this.requireEngine();
      if (engine.groups().includes(channelId)) return;
      await this.change(channelId, () => ({
        removed: [],
        added: [this.requireSelf()],
        make: async () =>
          engine.joinByExternalCommit((await this.deps.delivery.groupInfo(channelId)).groupInfo),
      }));
    });
  }

  /**
   * Encrypts a payload for the channel's current epoch and sends it; resolves with the log entry's message.
   * `ciphertext` made earlier (kept in the outbox) is sent as is, so a retry after a lost answer is the same
   * request; `persist` keeps a new ciphertext before it leaves. A ciphertext the server refuses as stale (the
   * group moved on while it waited) is made again after reading the newer commits, under the same
   * `clientMsgId`: a device that just joined must be able to read it.
   */
  async send(
    channelId: string,
    payload: EncryptedPayload,
    clientMsgId = newId(),
    options: { ciphertext?: Uint8Array; persist?: (ciphertext: Uint8Array) => Promise<void> } = {},
  ): Promise<Message> {
    this.sent.set(clientMsgId, payload);
    let ciphertext = options.ciphertext;
    for (let attempt = 1; ; attempt++) {
      if (!ciphertext) {
        ciphertext = await this.serial(() =>
          this.requireEngine().encrypt(channelId, encodePayload(payload), {
            authenticatedData: utf8.encode(clientMsgId),
          }),
        );
        await options.persist?.(ciphertext);
      }
      try {
        const stored = await this.deps.delivery.sendEncrypted(
          channelId,
          clientMsgId,
          ciphertext,
          attachedMediaIds(payload),
        );
        return asPlainMessage(stored, { sender: this.requireSelf(), payload });
      } catch (err) {
        if (errorCodeOf(err) !== ErrorCode.E2EE_STALE_EPOCH || attempt >= MAX_COMMIT_ATTEMPTS) throw err;
        ciphertext = undefined;
        await this.serial(() => this.catchUp(channelId));
      }
    }
  }

  /** Handles a log entry of an encrypted channel (commit or ciphertext), in log order. */
  onEntry(entry: MessageEntry, source: EntrySource): Promise<void> {
    return this.serial(() => this.readEntry(entry, source));
  }

  /** Waits until everything queued so far (entries, changes) is done. */
  idle(): Promise<void> {
    return this.serial(async () => {});
  }

  // --- inside the queue -------------------------------------------------------------------------------

  private async addUsersNow(channelId: string, userIds: readonly string[], founding: boolean): Promise<void> {
    const engine = this.requireEngine();
    const self = this.requireSelf();
    const lists = await Promise.all(userIds.map((u) => this.deps.delivery.listDevices(u)));
    await this.change(channelId, async () => {
      const present = engine.members(channelId);
      const devices = lists
        .flat()
        .filter((d) => !sameDevice(d, self) && !present.some((m) => sameDevice(m, d)));
      if (devices.length === 0) {
        // The first commit makes this device the group's founder on the server, even with nobody to add yet.
        return founding && engine.epoch(channelId) === 0
          ? { removed: [], make: () => engine.update(channelId) }
          : undefined;
      }
      const keyPackages = await this.deps.delivery.claim(channelId, devices);
      return { removed: [], make: () => engine.addDevices(channelId, keyPackages) };
    });
  }

  /**
   * Makes a commit and has the server order it. When another device won the epoch
   * (`NATTER_E2EE_STALE_EPOCH`), drops it, reads the winner(s) from the log and plans the change again.
   */
  private async change(
    channelId: string,
    plan: () => CommitStep | undefined | Promise<CommitStep | undefined>,
  ): Promise<void> {
    const engine = this.requireEngine();
    for (let attempt = 1; ; attempt++) {
      const step = await plan();
      if (!step) return;
      await step.make();
      const pending = engine.pendingCommit(channelId);
      if (!pending) throw new NatterError(ErrorCode.INTERNAL, 'the engine made no pending commit');
      try {
        await this.deps.delivery.commit(channelId, pending, step.removed, step.added);
      } catch (err) {
        if (errorCodeOf(err) !== ErrorCode.E2EE_STALE_EPOCH || attempt >= MAX_COMMIT_ATTEMPTS) {
          await engine.discardCommit(channelId);
          throw err;
        }
        await engine.discardCommit(channelId);
        await this.catchUp(channelId);
        continue;
      }
      await engine.confirmCommit(channelId);
      if (pending.welcomeRecipients.length > 0) void this.stock?.replenish().catch(this.deps.onError);
      return;
    }
  }

  /** Applies the channel's commits this device has not read yet, straight from its history. */
  private async catchUp(channelId: string): Promise<void> {
    const engine = this.requireEngine();
    const commits: Message[] = [];
    let before: number | undefined;
    // Walk back from the newest page until the commit right after this device's epoch (bounded by the log).
    for (;;) {
      const page = await this.deps.http.history(channelId, { limit: 100, ...(before ? { before } : {}) });
      const found = page.messages.filter(
        (m) => m.system?.action === 'mls_commit' && m.system.epoch > engine.epoch(channelId),
      );
      commits.unshift(...found);
      const reached = found.some(
        (m) => m.system?.action === 'mls_commit' && m.system.epoch === engine.epoch(channelId) + 1,
      );
      if (reached || !page.hasMoreBefore || page.messages.length === 0) break;
      before = page.messages[0]!.seq;
    }
    commits.sort((a, b) => a.seq - b.seq);
    for (const m of commits) {
      if (m.system?.action !== 'mls_commit' || m.system.epoch <= engine.epoch(channelId)) continue;
      await engine.processCommit(channelId, fromBase64(m.system.commit));
    }
  }

  /**
   * A new device of a member is in none of the user's encrypted channels and nobody may add it: it joins
   * each by external commit. A channel whose group does not exist yet (no first commit: 404) is skipped;
   * its creator adds this device when it makes the group.
   */
  private async joinMissing(): Promise<void> {
    const engine = this.requireEngine();
    for (const channel of await this.deps.http.listChannels()) {
      if (!channel.encrypted || engine.groups().includes(channel.id)) continue;
      try {
        await this.change(channel.id, () =>
          engine.groups().includes(channel.id)
            ? undefined
            : {
                removed: [],
                added: [this.requireSelf()],
                make: async () =>
                  engine.joinByExternalCommit((await this.deps.delivery.groupInfo(channel.id)).groupInfo),
              },
        );
      } catch (err) {
        if (errorCodeOf(err) !== ErrorCode.NOT_FOUND)
          this.deps.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private async joinFromQueue(): Promise<void> {
    const engine = this.requireEngine();
    for (const queued of await this.deps.delivery.readQueue()) {
      if (!engine.groups().includes(queued.channelId)) {
        try {
          await engine.joinFromWelcome(queued.welcome);
        } catch (err) {
          // A replayed or foreign Welcome: nothing to join; the queue entry is dropped below either way.
          if (!isE2eeCode(errorCodeOf(err))) throw err;
          this.deps.onError(err as Error);
        }
      }
      await this.deps.delivery.ackQueued(queued.id);
    }
  }

  private async readEntry(entry: MessageEntry, source: EntrySource): Promise<void> {
    const engine = this.engine;
    const self = this.self;
    const { message } = entry;
    const system = message.system;
    if (!engine || !self || !system) return;
    const channelId = message.channelId;
    if (system.action === 'mls_commit') {
      if (!engine.groups().includes(channelId)) {
        if (system.added.some((d) => sameDevice(d, self))) await this.joinFromQueue();
        return;
      }
      // This device's own commits, and commits read during a catch-up, are applied already.
      if (system.epoch <= engine.epoch(channelId)) return;
      try {
        await engine.processCommit(channelId, fromBase64(system.commit));
      } catch (err) {
        await this.failed(message, err);
      }
      return;
    }
    if (system.action !== 'mls_message') return;
    // MLS decrypts an entry once: a replayed entry (a resync, a history catch-up) is what was read the first time.
    const known = await this.deps.read.recall(channelId, message.seq);
    if (known) {
      const state = known.message.e2ee;
      if (known.info) await this.deps.onMessage(entry, known.message, known.info, source);
      else if (state?.state === 'undecryptable')
        this.deps.onDecryptionFailed({
          channelId,
          seq: message.seq,
          reason: state.reason,
          message: 'this device could not read this entry',
        });
      return;
    }
    if (message.senderId === self.userId && system.deviceId === self.deviceId) {
      const own = message.clientMsgId ? this.sent.get(message.clientMsgId) : undefined;
      if (own) {
        this.sent.delete(message.clientMsgId!);
        await this.decrypted(entry, { sender: self, payload: own }, source);
      } else {
        await this.failed(
          message,
          new NatterError(ErrorCode.E2EE_DECRYPT_FAILED, "this device's own message, sent before a restart"),
        );
      }
      return;
    }
    if (!engine.groups().includes(channelId)) {
      await this.failed(
        message,
        new NatterError(ErrorCode.E2EE_UNKNOWN_GROUP, 'sent before this device joined the channel'),
      );
      return;
    }
    try {
      const decrypted = await engine.decrypt(channelId, fromBase64(system.ciphertext));
      const payload = decodePayload(decrypted.plaintext);
      if (!payload)
        throw new NatterError(ErrorCode.E2EE_STATE_INVALID, 'the plaintext is not a natter message');
      if (decrypted.sender.userId !== message.senderId)
        throw new NatterError(
          ErrorCode.E2EE_DECRYPT_FAILED,
          'the MLS sender is not the account that sent the entry',
        );
      await this.decrypted(entry, { sender: decrypted.sender, payload }, source);
    } catch (err) {
      await this.failed(message, err);
    }
  }

  /** Keeps the decrypted form in the store (before anything shows it), then hands it on. */
  private async decrypted(entry: MessageEntry, info: EncryptedMessageInfo, source: EntrySource) {
    const message = asPlainMessage(entry.message, info);
    await this.deps.read.remember(info.payload.t === 'msg' ? { message, info } : { message });
    await this.deps.onMessage(entry, message, info, source);
  }

  private async failed(message: Message, err: unknown): Promise<void> {
    const code = errorCodeOf(err);
    const reason = isE2eeCode(code) ? code : ErrorCode.E2EE_DECRYPT_FAILED;
    if (message.system?.action === 'mls_message')
      await this.deps.read.remember({ message: undecryptable(message, reason) });
    this.deps.onDecryptionFailed({
      channelId: message.channelId,
      seq: message.seq,
      reason,
      message: err instanceof Error ? err.message : String(err),
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private requireEngine(): MlsEngine {
    if (!this.engine)
      throw new NatterError(ErrorCode.BAD_REQUEST, 'end-to-end encryption is not started: connect first');
    return this.engine;
  }

  private requireSelf(): DeviceRef {
    this.requireEngine();
    return this.self!;
  }
}

/**
 * The log entry as apps see it: a `text` message whose text is the decrypted one; the carrier of a change
 * stays a system entry (without its ciphertext) naming the change, which applies to its target instead.
 */
function asPlainMessage(message: Message, info: EncryptedMessageInfo): ReadEncryptedMessage {
  const { payload } = info;
  if (payload.t !== 'msg') {
    const system =
      message.system?.action === 'mls_message' ? { ...message.system, ciphertext: '' } : message.system;
    return { ...message, text: '', system, e2ee: { state: 'change', change: payload.t } };
  }
  const mentions = payload.mentions ?? [];
  // The entry's `attachments` are the opaque ciphertext uploads: the files are the payload's references.
  const { attachments: _opaque, ...rest } = message;
  return {
    ...rest,
    kind: 'text',
    text: payload.text,
    mentions,
    system: null,
    e2ee: { state: 'decrypted', sender: info.sender },
  };
}

/** The uploads a payload's encrypted files live in: the server attaches them to the entry (only a message has files). */
function attachedMediaIds(payload: EncryptedPayload): string[] {
  return payload.t === 'msg' ? (payload.attachments ?? []).map((ref) => ref.mediaId) : [];
}
