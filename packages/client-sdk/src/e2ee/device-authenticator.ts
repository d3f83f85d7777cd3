import type { DeviceAuthenticator, DevicePublicIdentity } from '@natter/e2ee';
import { toBase64 } from '../base64.js';

/** Reads a user's published device list (each device's id and identity key). */
export type DeviceListLookup = (userId: string) => Promise<readonly DevicePublicIdentity[]>;

const sameKey = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Identities refused after a fresh fetch that are remembered (so each costs one refetch at most). */
const MAX_REFUSED = 256;

/**
 * The engine's `authenticate` callback: an MLS device is accepted only when its user published it, with
 * the same identity key. Lists are cached per user; a device not in the cached list refetches it once (it
 * may have just been published) before it is refused, and a refused identity is remembered, so one forged
 * identity costs at most one lookup. `forget(userId)` drops a cached list (after a revocation).
 */
export function createDeviceAuthenticator(
  lookup: DeviceListLookup,
): DeviceAuthenticator & { forget(userId: string): void } {
  const lists = new Map<string, Promise<readonly DevicePublicIdentity[]>>();
  const refused = new Set<string>();
  const load = (userId: string, fresh: boolean) => {
    const cached = fresh ? undefined : lists.get(userId);
    if (cached) return cached;
    const list = lookup(userId);
    lists.set(userId, list);
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
    const key = `${device.userId}/${device.deviceId}/${toBase64(device.signaturePublicKey)}`;
    if (refused.has(key)) return false;
    if (published(await load(device.userId, true), device)) return true;
    if (refused.size >= MAX_REFUSED) refused.delete(refused.values().next().value!);
    refused.add(key);
    return false;
  };
  return Object.assign(authenticate, { forget: (userId: string) => void lists.delete(userId) });
}
