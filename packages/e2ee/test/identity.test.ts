/** Device credentials, fingerprints and safety numbers. */
import { describe, expect, it } from 'vitest';
import {
  decodeDeviceCredential,
  deviceFingerprint,
  encodeDeviceCredential,
  safetyNumber,
} from '../src/identity.js';
import { createTsMlsEngine } from '../src/ts-mls/engine.js';

const utf8 = new TextEncoder();

describe('device identities', () => {
  it('round-trips any user and device id through the credential, separators included', () => {
    const device = { userId: 'u/1"]:x', deviceId: 'd\u0000é' };
    expect(decodeDeviceCredential(encodeDeviceCredential(device))).toEqual(device);
  });

  it('refuses credentials that are not natter device identities', () => {
    for (const bad of [
      'alice',
      '["natter-device/2","a","b"]',
      '["natter-device/1","a"]',
      '["natter-device/1","","b"]',
      '{}',
    ])
      expect(decodeDeviceCredential(utf8.encode(bad))).toBeUndefined();
    expect(decodeDeviceCredential(new Uint8Array([0xff, 0xfe]))).toBeUndefined();
  });

  it('gives a device a stable 30-digit fingerprint that changes with its key', async () => {
    const a = await createTsMlsEngine({ device: { userId: 'alice', deviceId: 'phone' } });
    const b = await createTsMlsEngine({ device: { userId: 'alice', deviceId: 'phone' } });
    const fp = deviceFingerprint(a.identity);
    expect(fp).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(deviceFingerprint(a.identity)).toBe(fp);
    const restored = await createTsMlsEngine({ state: await a.exportState() });
    expect(deviceFingerprint(restored.identity)).toBe(fp);
    // Same names, another key (a device re-created, or an impostor): another fingerprint.
    expect(deviceFingerprint(b.identity)).not.toBe(fp);
  });

  it('binds the fingerprint to the names: the same key under another device id differs', async () => {
    const a = await createTsMlsEngine({ device: { userId: 'alice', deviceId: 'phone' } });
    expect(deviceFingerprint({ ...a.identity, deviceId: 'laptop' })).not.toBe(deviceFingerprint(a.identity));
  });

  it('computes the same safety number on both sides, and another one when a device is slipped in', async () => {
    const mk = (userId: string, deviceId: string) => createTsMlsEngine({ device: { userId, deviceId } });
    const alice = [(await mk('alice', 'phone')).identity, (await mk('alice', 'laptop')).identity];
    const bob = [(await mk('bob', 'phone')).identity];
    const seenByAlice = safetyNumber(alice, bob);
    const seenByBob = safetyNumber(bob, [...alice].reverse());
    expect(seenByBob).toBe(seenByAlice);
    const intruder = (await mk('bob', 'ghost')).identity;
    expect(safetyNumber(alice, [...bob, intruder])).not.toBe(seenByAlice);
  });
});
