import type { DeviceAuthenticator, DevicePublicIdentity } from '@natter/e2ee';

/** Reads a user's published device list (each device's id and identity key). */
export type DeviceListLookup = (userId: string) => Promise<readonly DevicePublicIdentity[]>;

const sameKey = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The engine's `authenticate` callback: an MLS device is accepted only when its user published it, with
 * the same identity key. Lists are cached per user; an unknown device or key refetches the list once (it
 * may have just been published) before the device is refused, so a stale cache never lets a device in and
 * never keeps a new one out. `forget(userId)` drops a cached list (after a `devices` change notice).
 */
export function createDeviceAuthenticator(
  lookup: DeviceListLookup,
  options: {
    /** A list is refetched for an unknown device at most this often per user, ms (forged devices cannot flood the server). @default 2000 */
    minRefetchMs?: number;
    /** Clock, ms. @default Date.now */
    now?: () => number;
  } = {},
): DeviceAuthenticator & { forget(userId: string): void } {
  const minRefetchMs = options.minRefetchMs ?? 2000;
  const now = options.now ?? Date.now;
  const lists = new Map<string, { list: Promise<readonly DevicePublicIdentity[]>; at: number }>();
  const load = (userId: string, fresh: boolean) => {
    const cached = lists.get(userId);
    if (cached && (!fresh || now() - cached.at < minRefetchMs)) return cached.list;
    const list = lookup(userId);
    lists.set(userId, { list, at: now() });
    // A failed lookup is not cached: the next device of that user tries again.
    list.catch(() => lists.delete(userId));
    return list;
  };
  const published = (devices: readonly DevicePublicIdentity[], device: DevicePublicIdentity) =>
    devices.some(
      (d) =>
        d.userId === device.userId &&
        d.deviceId === device.deviceId &&
        sameKey(d.signaturePublicKey, device.signaturePublicKey),
    );
  const authenticate = async (device: DevicePublicIdentity): Promise<boolean> => {
    if (published(await load(device.userId, false), device)) return true;
    return published(await load(device.userId, true), device);
  };
  return Object.assign(authenticate, { forget: (userId: string) => void lists.delete(userId) });
}
