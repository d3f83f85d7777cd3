import {
  type ClaimedKeyPackage,
  type Device,
  E2EE_LIMITS,
  ErrorCode,
  type KeyPackageStock,
  NatterError,
  newId,
} from '@natter/protocol';
import type { ModerationReads, ModerationWrites } from '../ports/moderation.js';
import type { ChatStore } from '../ports/storage.js';
import { e2eeKeys } from './keys.js';
import { headerOf } from './mls-input.js';

const notFound = (what: string) => new NatterError(ErrorCode.NOT_FOUND, `${what} not found`);
export const unavailable = () =>
  new NatterError(ErrorCode.NOT_FOUND, 'end-to-end encryption is not available on this store');

/** Dependencies of {@link DeviceDirectory}. */
export interface DeviceDirectoryOptions {
  chat: ChatStore;
  now: () => number;
}

/** The session's device id; a token without one (an external authenticator's) cannot take part in MLS. */
export function requireDevice(deviceId: string | undefined): string {
  if (deviceId === undefined)
    throw new NatterError(
      ErrorCode.BAD_REQUEST,
      'this session has no device id; end-to-end encryption needs one',
    );
  return deviceId;
}

/**
 * Devices and their KeyPackages (docs/e2ee.md rules 1 and 2). Every write runs in a store transaction and
 * reads the device row first: in a multi-process store that `get` locks the row, so uploads, claims and a
 * revocation of one device serialise and two claims never take the same KeyPackage.
 */
export class DeviceDirectory {
  constructor(private readonly options: DeviceDirectoryOptions) {}

  private get reads(): ModerationReads {
    const reads = this.options.chat.moderation;
    if (!reads) throw unavailable();
    return reads;
  }

  private write<T>(fn: (m: ModerationWrites) => Promise<T>): Promise<T> {
    return this.options.chat.write(async (tx) => {
      if (!tx.moderation) throw unavailable();
      return fn(tx.moderation);
    });
  }

  /** Publishes the session's device; the same key again is a no-op, another key is a conflict. */
  async publish(userId: string, deviceId: string, signaturePublicKey: string): Promise<Device> {
    return this.write(async (m) => {
      const key = e2eeKeys.device(userId, deviceId);
      const existing = await m.get(key);
      if (existing?.kind === 'e2eeDevice') {
        if (existing.signaturePublicKey !== signaturePublicKey)
          throw new NatterError(ErrorCode.CONFLICT, 'this device already published another identity key');
        return toDevice(existing);
      }
      const others = await m.list(e2eeKeys.devicesOf(userId), undefined, E2EE_LIMITS.maxDevicesPerUser);
      if (others.length >= E2EE_LIMITS.maxDevicesPerUser)
        throw new NatterError(
          ErrorCode.E2EE_LIMIT,
          `at most ${E2EE_LIMITS.maxDevicesPerUser} devices per user: revoke one first`,
        );
      const record = {
        kind: 'e2eeDevice' as const,
        userId,
        deviceId,
        signaturePublicKey,
        createdAt: this.options.now(),
      };
      await m.put(key, record);
      return toDevice(record);
    });
  }

  /** A user's devices, for the user or a contact (sharing a channel); others get NOT_FOUND. */
  async list(callerId: string, userId: string): Promise<Device[]> {
    const reads = this.reads;
    if (callerId !== userId && !(await this.sharesChannel(callerId, userId))) throw notFound('user');
    const rows = await reads.list(e2eeKeys.devicesOf(userId), undefined, E2EE_LIMITS.maxDevicesPerUser);
    const devices = rows.flatMap(({ record }) => (record.kind === 'e2eeDevice' ? [toDevice(record)] : []));
    return devices.sort((a, b) => a.createdAt - b.createdAt || (a.deviceId < b.deviceId ? -1 : 1));
  }

  /** The device's published record, if any (read outside a transaction). */
  async get(userId: string, deviceId: string): Promise<Device | undefined> {
    const record = await this.reads.get(e2eeKeys.device(userId, deviceId));
    return record?.kind === 'e2eeDevice' ? toDevice(record) : undefined;
  }

  /** Revokes one of the caller's devices: its row, KeyPackages and queue go in one transaction. */
  async revoke(userId: string, deviceId: string): Promise<void> {
    await this.write(async (m) => {
      const key = e2eeKeys.device(userId, deviceId);
      if ((await m.get(key))?.kind !== 'e2eeDevice') throw notFound('device');
      await m.delete(key);
      await m.delete(e2eeKeys.lastResort(userId, deviceId));
      for (const prefix of [e2eeKeys.keyPackagesOf(userId, deviceId), e2eeKeys.queueOf(userId, deviceId)]) {
        for (const row of await m.list(prefix, undefined, 10_000)) await m.delete(row.key);
      }
    });
  }

  /** Stocks KeyPackages of the session's published device (checked to be KeyPackages, bounded per device). */
  async upload(
    userId: string,
    deviceId: string,
    keyPackages: readonly string[],
    lastResort: string | undefined,
  ): Promise<KeyPackageStock> {
    for (const kp of [...keyPackages, ...(lastResort !== undefined ? [lastResort] : [])]) {
      let wireFormat: string;
      try {
        wireFormat = headerOf(kp, 'KeyPackage').wireFormat;
      } catch {
        wireFormat = 'none';
      }
      if (wireFormat !== 'key_package')
        throw new NatterError(ErrorCode.E2EE_KEY_PACKAGE_INVALID, 'not an MLS KeyPackage');
    }
    return this.write(async (m) => {
      if ((await m.get(e2eeKeys.device(userId, deviceId)))?.kind !== 'e2eeDevice')
        throw notFound('published device');
      const max = E2EE_LIMITS.maxKeyPackagesPerDevice;
      const stocked = await m.list(e2eeKeys.keyPackagesOf(userId, deviceId), undefined, max + 1);
      if (stocked.length + keyPackages.length > max)
        throw new NatterError(ErrorCode.E2EE_LIMIT, `at most ${max} KeyPackages stocked per device`);
      const now = this.options.now();
      for (const keyPackage of keyPackages) {
        await m.put(e2eeKeys.keyPackage(userId, deviceId, newId(now)), {
          kind: 'e2eeKeyPackage',
          keyPackage,
        });
      }
      if (lastResort !== undefined)
        await m.put(e2eeKeys.lastResort(userId, deviceId), {
          kind: 'e2eeLastResort',
          keyPackage: lastResort,
        });
      const hasLastResort =
        lastResort !== undefined || (await m.get(e2eeKeys.lastResort(userId, deviceId))) !== undefined;
      return stockOf(stocked.length + keyPackages.length, hasLastResort);
    });
  }

  /** The session's device KeyPackage stock. */
  async stock(userId: string, deviceId: string): Promise<KeyPackageStock> {
    const reads = this.reads;
    if ((await reads.get(e2eeKeys.device(userId, deviceId)))?.kind !== 'e2eeDevice')
      throw notFound('published device');
    const max = E2EE_LIMITS.maxKeyPackagesPerDevice;
    const stocked = await reads.list(e2eeKeys.keyPackagesOf(userId, deviceId), undefined, max + 1);
    return stockOf(stocked.length, (await reads.get(e2eeKeys.lastResort(userId, deviceId))) !== undefined);
  }

  /**
   * Claims one KeyPackage per device, all in one transaction: each single-use one is removed by the
   * transaction that returns it (the device row's lock orders racing claims), else the last-resort one is
   * returned and kept. A device with none fails the whole claim, so nothing is consumed for nothing.
   * The caller and every named user must be members of the encrypted channel (`requireMembers`).
   */
  async claim(
    devices: ReadonlyArray<{ userId: string; deviceId: string }>,
    requireMembers: (m: ModerationWrites) => Promise<void>,
  ): Promise<ClaimedKeyPackage[]> {
    return this.write(async (m) => {
      await requireMembers(m);
      // Locks in one order, so two claims naming the same devices cannot deadlock.
      const order = [...new Set(devices.map((d) => `${d.userId}/${d.deviceId}`))].sort();
      const claimed = new Map<string, ClaimedKeyPackage>();
      for (const ref of order) {
        const [userId, deviceId] = ref.split('/') as [string, string];
        const noKeyPackage = () =>
          new NatterError(ErrorCode.E2EE_NO_KEY_PACKAGE, `device ${deviceId} of ${userId} has no KeyPackage`);
        if ((await m.get(e2eeKeys.device(userId, deviceId)))?.kind !== 'e2eeDevice') throw noKeyPackage();
        const [single] = await m.list(e2eeKeys.keyPackagesOf(userId, deviceId), undefined, 1);
        if (single?.record.kind === 'e2eeKeyPackage') {
          await m.delete(single.key);
          claimed.set(ref, { userId, deviceId, keyPackage: single.record.keyPackage, lastResort: false });
          continue;
        }
        const last = await m.get(e2eeKeys.lastResort(userId, deviceId));
        if (last?.kind !== 'e2eeLastResort') throw noKeyPackage();
        claimed.set(ref, { userId, deviceId, keyPackage: last.keyPackage, lastResort: true });
      }
      return devices.map((d) => claimed.get(`${d.userId}/${d.deviceId}`)!);
    });
  }

  /** True when the two users are members of one channel. */
  private async sharesChannel(a: string, b: string): Promise<boolean> {
    const { chat } = this.options;
    const [mine, theirs] = await Promise.all([chat.listChannelsOf(a), chat.listChannelsOf(b)]);
    const ids = new Set(mine.map((x) => x.channel.id));
    return theirs.some((x) => ids.has(x.channel.id));
  }
}

function toDevice(record: {
  userId: string;
  deviceId: string;
  signaturePublicKey: string;
  createdAt: number;
}): Device {
  const { userId, deviceId, signaturePublicKey, createdAt } = record;
  return { userId, deviceId, signaturePublicKey, createdAt };
}

function stockOf(remaining: number, hasLastResort: boolean): KeyPackageStock {
  return { remaining, hasLastResort, low: remaining < E2EE_LIMITS.lowKeyPackageStock };
}
