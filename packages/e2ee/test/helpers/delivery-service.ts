/**
 * An in-process Delivery Service with exactly the rules docs/e2ee.md asks of natter's server, so the engine
 * tests run real MLS against them (and the server's implementation can be checked against the same story):
 * KeyPackages per device claimed one at a time with a last-resort fallback, one commit per epoch in log order
 * (read from the cleartext MLS header only), a GroupInfo per group, and a durable Welcome queue per device.
 */

import { E2eeErrorCode, e2eeError } from '../../src/errors.js';
import { readMlsHeader } from '../../src/mls-header.js';
import type { DeviceRef, MlsEngine, PendingCommit } from '../../src/port.js';

const key = (d: DeviceRef) => `${d.userId}/${d.deviceId}`;

/** One entry of a channel's log, as the sync log would carry it. */
export interface LogEntry {
  readonly seq: number;
  readonly kind: 'commit' | 'application';
  readonly bytes: Uint8Array;
}

/** A Welcome in a device's queue, with the log position of the commit that added the device. */
export interface QueuedWelcome {
  readonly channelId: string;
  readonly welcome: Uint8Array;
  /** The new device reads the channel's log after this seq. */
  readonly seq: number;
}

interface Channel {
  epoch: number;
  log: LogEntry[];
  groupInfo?: Uint8Array;
}

/** The server side of natter's MLS, in memory. */
export class TestDeliveryService {
  private readonly keyPackages = new Map<string, Uint8Array[]>();
  private readonly lastResort = new Map<string, Uint8Array>();
  private readonly welcomes = new Map<string, QueuedWelcome[]>();
  private readonly channels = new Map<string, Channel>();

  /** A device uploads single-use KeyPackages and its last-resort one. */
  uploadKeyPackages(device: DeviceRef, single: Uint8Array[], lastResort?: Uint8Array): void {
    for (const kp of [...single, ...(lastResort ? [lastResort] : [])])
      if (readMlsHeader(kp).wireFormat !== 'key_package')
        throw e2eeError(E2eeErrorCode.KEY_PACKAGE_INVALID, 'not a KeyPackage');
    this.keyPackages.set(key(device), [...(this.keyPackages.get(key(device)) ?? []), ...single]);
    if (lastResort) this.lastResort.set(key(device), lastResort);
  }

  /** Claims one KeyPackage of a device: a single-use one removed in the same step, else the last-resort one. */
  claimKeyPackage(device: DeviceRef): Uint8Array {
    const single = this.keyPackages.get(key(device))?.shift();
    const kp = single ?? this.lastResort.get(key(device));
    if (!kp) throw e2eeError(E2eeErrorCode.NO_KEY_PACKAGE, `${key(device)} has no KeyPackage`);
    return kp;
  }

  /** Registers an encrypted channel in epoch 0 with its creator's GroupInfo. */
  createChannel(channelId: string, groupInfo: Uint8Array): void {
    this.channels.set(channelId, { epoch: 0, log: [], groupInfo });
  }

  private channel(channelId: string): Channel {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`no channel ${channelId}`);
    return channel;
  }

  /**
   * Accepts a commit iff it is for the channel's current epoch (else `STALE_EPOCH`); appends it to the log,
   * stores the new GroupInfo and queues the Welcome to each added device, all in one step.
   */
  submitCommit(pending: PendingCommit): LogEntry {
    const channel = this.channel(pending.groupId);
    const header = readMlsHeader(pending.commit);
    if (header.wireFormat !== 'private_message' && header.wireFormat !== 'public_message')
      throw e2eeError(E2eeErrorCode.COMMIT_REJECTED, 'not a framed message');
    if (header.contentType !== 'commit') throw e2eeError(E2eeErrorCode.COMMIT_REJECTED, 'not a commit');
    if (new TextDecoder().decode(header.groupId) !== pending.groupId)
      throw e2eeError(E2eeErrorCode.WRONG_GROUP, 'commit of another group');
    if (header.epoch !== channel.epoch)
      throw e2eeError(
        E2eeErrorCode.STALE_EPOCH,
        `commit for epoch ${header.epoch}, channel is in ${channel.epoch}`,
      );
    const entry: LogEntry = { seq: channel.log.length + 1, kind: 'commit', bytes: pending.commit };
    channel.log.push(entry);
    channel.epoch += 1;
    channel.groupInfo = pending.groupInfo;
    if (pending.welcome)
      for (const d of pending.welcomeRecipients) {
        const queued = { channelId: pending.groupId, welcome: pending.welcome, seq: entry.seq };
        this.welcomes.set(key(d), [...(this.welcomes.get(key(d)) ?? []), queued]);
      }
    return entry;
  }

  /** Appends an application message (any epoch up to the current one: recent epochs still decrypt). */
  submitMessage(channelId: string, ciphertext: Uint8Array): LogEntry {
    const channel = this.channel(channelId);
    const header = readMlsHeader(ciphertext);
    if (
      header.wireFormat !== 'private_message' ||
      header.contentType !== 'application' ||
      header.epoch > channel.epoch
    )
      throw e2eeError(E2eeErrorCode.DECRYPT_FAILED, 'not an application message of this channel');
    const entry: LogEntry = { seq: channel.log.length + 1, kind: 'application', bytes: ciphertext };
    channel.log.push(entry);
    return entry;
  }

  /** The channel's log after `seq`. */
  logSince(channelId: string, seq: number): LogEntry[] {
    return this.channel(channelId).log.filter((e) => e.seq > seq);
  }

  /** The channel's current GroupInfo (for external joins). */
  groupInfo(channelId: string): Uint8Array {
    const info = this.channel(channelId).groupInfo;
    if (!info) throw new Error('no GroupInfo');
    return info;
  }

  /** Takes the Welcomes queued for a device (a real queue deletes them on the device's acknowledgement). */
  takeWelcomes(device: DeviceRef): QueuedWelcome[] {
    const queued = this.welcomes.get(key(device)) ?? [];
    this.welcomes.delete(key(device));
    return queued;
  }
}

/** A device in the tests: its engine and how far it has read each channel's log. */
export interface TestDevice {
  readonly engine: MlsEngine;
  readonly cursor: Map<string, number>;
  /**
   * Log entries this device sent itself: skipped on catch-up, since MLS deletes a sender's key after use (the
   * SDK knows its own entries by client message id and keeps their plaintext).
   */
  readonly sent: Set<string>;
}

/**
 * Commits a change through the service the way the SDK will: submit; on acceptance confirm; on
 * `STALE_EPOCH` discard, catch up with the log, and make the change again.
 */
export async function commitThrough(
  ds: TestDeliveryService,
  device: TestDevice,
  channelId: string,
  make: () => Promise<PendingCommit>,
): Promise<{ attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    const pending = await make();
    try {
      const entry = ds.submitCommit(pending);
      await device.engine.confirmCommit(channelId);
      device.cursor.set(channelId, entry.seq);
      return { attempts };
    } catch (err) {
      if ((err as { code?: string }).code !== E2eeErrorCode.STALE_EPOCH || attempts > 3) throw err;
      await device.engine.discardCommit(channelId);
      await catchUp(ds, device, channelId);
    }
  }
}

/** Joins every group whose Welcome waits in the device's queue, reading each log from the adding commit on. */
export async function acceptWelcomes(ds: TestDeliveryService, device: TestDevice): Promise<string[]> {
  const joined: string[] = [];
  for (const queued of ds.takeWelcomes(device.engine.identity)) {
    joined.push(await device.engine.joinFromWelcome(queued.welcome));
    device.cursor.set(queued.channelId, queued.seq);
  }
  return joined;
}

/** Applies a channel's log entries after the device's cursor: commits processed, messages decrypted. */
export async function catchUp(
  ds: TestDeliveryService,
  device: TestDevice,
  channelId: string,
): Promise<string[]> {
  const texts: string[] = [];
  for (const entry of ds.logSince(channelId, device.cursor.get(channelId) ?? 0)) {
    if (entry.kind === 'commit') {
      const result = await device.engine.processCommit(channelId, entry.bytes);
      device.cursor.set(channelId, entry.seq);
      if (result.removedSelf) break;
    } else if (device.sent.has(`${channelId}#${entry.seq}`)) {
      device.cursor.set(channelId, entry.seq);
    } else {
      const got = await device.engine.decrypt(channelId, entry.bytes);
      texts.push(new TextDecoder().decode(got.plaintext));
      device.cursor.set(channelId, entry.seq);
    }
  }
  return texts;
}
