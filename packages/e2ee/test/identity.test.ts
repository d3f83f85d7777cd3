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

describe('KeyPackages', () => {
  it('keeps one last-resort KeyPackage until it nears expiry, then renews it', async () => {
    const engine = await createTsMlsEngine({
      device: { userId: 'alice', deviceId: 'phone' },
      keyPackageLifetimeDays: 28,
    });
    const first = await engine.lastResortKeyPackage();
    expect(await engine.lastResortKeyPackage()).toEqual(first);
    const short = await createTsMlsEngine({
      device: { userId: 'alice', deviceId: 'tablet' },
      keyPackageLifetimeDays: 6,
    });
    // A lifetime under the one-week renewal margin: every call makes a new one, the old one stays usable.
    const a = await short.lastResortKeyPackage();
    const b = await short.lastResortKeyPackage();
    expect(b).not.toEqual(a);
    expect(short.unusedKeyPackages()).toBe(1);
  });

  it('counts unused single-use KeyPackages and spends one per Welcome', async () => {
    const alice = await createTsMlsEngine({ device: { userId: 'alice', deviceId: 'phone' } });
    const bob = await createTsMlsEngine({ device: { userId: 'bob', deviceId: 'phone' } });
    const kps = await bob.generateKeyPackages(3);
    expect(bob.unusedKeyPackages()).toBe(3);
    await alice.createGroup('ch_kp');
    const add = await alice.addDevices('ch_kp', [kps[1]!]);
    await bob.joinFromWelcome(add.welcome!);
    expect(bob.unusedKeyPackages()).toBe(2);
  });
});
