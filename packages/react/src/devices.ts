import type { ChatClient } from '@natter/client';
import { deviceFingerprint } from '@natter/e2ee';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useChatClient } from './provider.js';

/** One published device of a user, as a device list shows it. */
export interface DeviceView {
  /** Its user. */
  userId: string;
  /** The device's id (the server's, as in `hello.deviceId`). */
  deviceId: string;
  /** `deviceFingerprint` of its identity key: six groups of five digits, equal on every screen. */
  fingerprint: string;
  /** True for the device this client runs on. */
  thisDevice: boolean;
}

/** A user's device list: loading, loaded (with the devices that appeared since it was last read), or failed. */
export type DevicesState =
  | { phase: 'loading'; devices: readonly DeviceView[]; added: readonly DeviceView[] }
  | { phase: 'ready'; devices: readonly DeviceView[]; added: readonly DeviceView[] }
  | { phase: 'error'; devices: readonly DeviceView[]; added: readonly DeviceView[]; error: unknown };

/** Options of {@link useDevices}. */
export interface UseDevicesOptions {
  /** Reads the list again this often, ms (a device that never writes still shows up). @default 30000 */
  refreshMs?: number;
}

/** Users whose devices a client remembers, to notice a new one (the oldest forgotten first). */
const REMEMBERED_USERS = 200;
/** Fingerprints computed (each costs 5,200 SHA-512 rounds), by user, device and key. */
const FINGERPRINTS_KEPT = 1_000;

const seen = new WeakMap<ChatClient, Map<string, ReadonlySet<string>>>();
const fingerprints = new Map<string, string>();

/**
 * The published devices of `userId` (the user's own, or a contact's) with their fingerprints, read from
 * `GET /v1/users/{id}/devices`: on mount, every `refreshMs`, when a message comes from a device of the user
 * not in the list, and on `refresh()`. `added` lists the devices that appeared since this client last read
 * the user's list (empty the first time), for a notice such as "Bob added a device".
 */
export function useDevices(
  userId: string | undefined,
  options: UseDevicesOptions = {},
): DevicesState & { refresh(): void } {
  const client = useChatClient();
  const refreshMs = options.refreshMs ?? 30_000;
  const [state, setState] = useState<DevicesState>({ phase: 'loading', devices: [], added: [] });
  // The current effect's reader, so `refresh` keeps one identity.
  const reader = useRef<() => void>(undefined);
  const refresh = useCallback(() => reader.current?.(), []);

  useEffect(() => {
    if (!userId) return;
    let live = true;
    let reading = false;
    const read = async () => {
      if (reading) return;
      reading = true;
      try {
        const devices = await readDevices(client, userId);
        if (!live) return;
        const added = noticeNew(client, userId, devices);
        setState((current) => ({
          phase: 'ready',
          devices,
          // A notice stays until a later read finds another new device.
          added: added.length > 0 ? added : current.added,
        }));
      } catch (error) {
        if (live) setState((current) => ({ ...current, phase: 'error', error }));
      } finally {
        reading = false;
      }
    };
    reader.current = () => void read();
    void read();
    const timer = setInterval(() => void read(), refreshMs);
    const off = client.on('message', ({ encrypted }) => {
      const sender = encrypted?.sender;
      if (sender?.userId !== userId) return;
      if (!seen.get(client)?.get(userId)?.has(sender.deviceId)) void read();
    });
    return () => {
      live = false;
      reader.current = undefined;
      clearInterval(timer);
      off();
    };
  }, [client, userId, refreshMs]);

  return { ...state, refresh };
}

async function readDevices(client: ChatClient, userId: string): Promise<DeviceView[]> {
  const { devices } = await client.http.call('listDevices', { params: { id: userId } });
  return devices.map((d) => ({
    userId: d.userId,
    deviceId: d.deviceId,
    fingerprint: fingerprintOf(d.userId, d.deviceId, d.signaturePublicKey),
    thisDevice: d.userId === client.userId && d.deviceId === client.deviceId,
  }));
}

function fingerprintOf(userId: string, deviceId: string, signaturePublicKey: string): string {
  const key = `${userId}/${deviceId}/${signaturePublicKey}`;
  const known = fingerprints.get(key);
  if (known) return known;
  const bytes = Uint8Array.from(atob(signaturePublicKey), (c) => c.charCodeAt(0));
  const fingerprint = deviceFingerprint({ userId, deviceId, signaturePublicKey: bytes });
  fingerprints.set(key, fingerprint);
  if (fingerprints.size > FINGERPRINTS_KEPT) {
    const oldest = fingerprints.keys().next().value;
    if (oldest !== undefined) fingerprints.delete(oldest);
  }
  return fingerprint;
}

/** The devices not in the list this client read before (none on the first read), remembering this one. */
function noticeNew(client: ChatClient, userId: string, devices: readonly DeviceView[]): DeviceView[] {
  let users = seen.get(client);
  if (!users) {
    users = new Map();
    seen.set(client, users);
  }
  const before = users.get(userId);
  users.delete(userId);
  users.set(userId, new Set(devices.map((d) => d.deviceId)));
  if (users.size > REMEMBERED_USERS) {
    const oldest = users.keys().next().value;
    if (oldest !== undefined) users.delete(oldest);
  }
  return before ? devices.filter((d) => !before.has(d.deviceId)) : [];
}
