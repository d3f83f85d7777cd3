/**
 * The life of an encrypted channel on real MLS: two users with two devices each form a group, a device is
 * added, one is removed (and reads nothing after), a member's new device joins by external commit, and the
 * engine state survives an export/import.
 */
import { describe, expect, it } from 'vitest';
import { createTsMlsEngine } from '../src/ts-mls/engine.js';
import {
  acceptWelcomes,
  catchUp,
  commitThrough,
  TestDeliveryService,
  type TestDevice,
} from './helpers/delivery-service.js';
import { decodeText, newDevice, send } from './helpers/devices.js';

const CHANNEL = 'ch_family';
const names = (d: TestDevice) => d.engine.members(CHANNEL).map((m) => `${m.userId}/${m.deviceId}`);

async function twoUsersTwoDevices() {
  const ds = new TestDeliveryService();
  const [alicePhone, aliceLaptop, bobPhone, bobLaptop] = await Promise.all([
    newDevice(ds, 'alice', 'phone'),
    newDevice(ds, 'alice', 'laptop'),
    newDevice(ds, 'bob', 'phone'),
    newDevice(ds, 'bob', 'laptop'),
  ]);
  await alicePhone.engine.createGroup(CHANNEL);
  ds.createChannel(CHANNEL, await alicePhone.engine.exportGroupInfo(CHANNEL));
  const others = [aliceLaptop, bobPhone, bobLaptop];
  const keyPackages = others.map((d) => ds.claimKeyPackage(d.engine.identity));
  await commitThrough(ds, alicePhone, CHANNEL, () => alicePhone.engine.addDevices(CHANNEL, keyPackages));
  for (const d of others) expect(await acceptWelcomes(ds, d)).toEqual([CHANNEL]);
  return { ds, alicePhone, aliceLaptop, bobPhone, bobLaptop, all: [alicePhone, ...others] };
}

describe('an encrypted channel of two users with two devices each', () => {
  it('puts all four devices in one epoch with the same member list', async () => {
    const { all } = await twoUsersTwoDevices();
    for (const d of all) {
      expect(d.engine.epoch(CHANNEL)).toBe(1);
      expect(names(d)).toEqual(['alice/phone', 'alice/laptop', 'bob/phone', 'bob/laptop']);
      expect(d.engine.members(CHANNEL).filter((m) => m.self)).toHaveLength(1);
    }
  });

  it('delivers every message to every other device with its authenticated sender', async () => {
    const { ds, bobLaptop, all } = await twoUsersTwoDevices();
    await send(ds, bobLaptop, CHANNEL, 'hi from bob');
    const entry = ds.logSince(CHANNEL, 1)[0]!;
    for (const d of all.filter((x) => x !== bobLaptop)) {
      const got = await d.engine.decrypt(CHANNEL, entry.bytes);
      expect(decodeText(got.plaintext)).toBe('hi from bob');
      expect(got.sender).toEqual({ userId: 'bob', deviceId: 'laptop' });
      expect(got.epoch).toBe(1);
    }
  });

  it('binds authenticated data to a message: readable by the server, returned on decryption', async () => {
    const { alicePhone, bobPhone } = await twoUsersTwoDevices();
    const aad = new TextEncoder().encode('client-msg-42');
    const bytes = await alicePhone.engine.encrypt(CHANNEL, new TextEncoder().encode('x'), {
      authenticatedData: aad,
    });
    const got = await bobPhone.engine.decrypt(CHANNEL, bytes);
    expect(decodeText(got.authenticatedData)).toBe('client-msg-42');
  });

  it('adds a new device of bob: every member sees it and it reads what is sent after', async () => {
    const { ds, alicePhone, all } = await twoUsersTwoDevices();
    const bobTablet = await newDevice(ds, 'bob', 'tablet');
    const kp = ds.claimKeyPackage(bobTablet.engine.identity);
    await commitThrough(ds, alicePhone, CHANNEL, () => alicePhone.engine.addDevices(CHANNEL, [kp]));
    for (const d of all.slice(1)) {
      const texts = await catchUp(ds, d, CHANNEL);
      expect(texts).toEqual([]);
    }
    await acceptWelcomes(ds, bobTablet);
    await send(ds, all[2]!, CHANNEL, 'welcome, tablet');
    expect(await catchUp(ds, bobTablet, CHANNEL)).toEqual(['welcome, tablet']);
    for (const d of [...all, bobTablet]) {
      expect(d.engine.epoch(CHANNEL)).toBe(2);
      expect(names(d)).toContain('bob/tablet');
    }
  });

  it('reports the added and removed devices of a processed commit', async () => {
    const { ds, alicePhone, bobPhone } = await twoUsersTwoDevices();
    const pending = await alicePhone.engine.removeDevices(CHANNEL, [{ userId: 'bob', deviceId: 'laptop' }]);
    ds.submitCommit(pending);
    const confirmed = await alicePhone.engine.confirmCommit(CHANNEL);
    expect(confirmed.removed).toEqual([{ userId: 'bob', deviceId: 'laptop' }]);
    const [commit] = ds.logSince(CHANNEL, 1);
    const processed = await bobPhone.engine.processCommit(CHANNEL, commit!.bytes);
    expect(processed).toMatchObject({
      epoch: 2,
      added: [],
      removed: [{ userId: 'bob', deviceId: 'laptop' }],
    });
    expect(processed.removedSelf).toBe(false);
  });

  it('removes a device: it learns so, loses the group, and cannot decrypt anything sent after', async () => {
    const { ds, alicePhone, aliceLaptop, bobPhone, bobLaptop } = await twoUsersTwoDevices();
    await commitThrough(ds, bobPhone, CHANNEL, () =>
      bobPhone.engine.removeDevices(CHANNEL, [{ userId: 'bob', deviceId: 'laptop' }]),
    );
    // The removed device keeps a copy of its state from before, as a stolen laptop would.
    const stolen = await createTsMlsEngine({ state: await bobLaptop.engine.exportState() });
    const removal = ds.logSince(CHANNEL, 1)[0]!;
    const seen = await bobLaptop.engine.processCommit(CHANNEL, removal.bytes);
    expect(seen.removedSelf).toBe(true);
    expect(bobLaptop.engine.groups()).toEqual([]);

    await catchUp(ds, alicePhone, CHANNEL);
    await catchUp(ds, aliceLaptop, CHANNEL);
    const after = await send(ds, alicePhone, CHANNEL, 'not for the laptop');
    expect(decodeText((await aliceLaptop.engine.decrypt(CHANNEL, after.bytes)).plaintext)).toBe(
      'not for the laptop',
    );
    await expect(bobLaptop.engine.decrypt(CHANNEL, after.bytes)).rejects.toMatchObject({
      code: 'NATTER_E2EE_UNKNOWN_GROUP',
    });
    // Even the old state cannot read the new epoch: it has no keys for it.
    await expect(stolen.decrypt(CHANNEL, after.bytes)).rejects.toMatchObject({
      code: 'NATTER_E2EE_EPOCH_GAP',
    });
    // Nor can it follow the removal commit into the new epoch: it is not in the new tree.
    const followed = await stolen.processCommit(CHANNEL, removal.bytes);
    expect(followed.removedSelf).toBe(true);
  });

  it("joins a member's new device by external commit from the stored GroupInfo", async () => {
    const { ds, aliceLaptop, bobPhone, all } = await twoUsersTwoDevices();
    const aliceTablet = await newDevice(ds, 'alice', 'tablet');
    const pending = await aliceTablet.engine.joinByExternalCommit(ds.groupInfo(CHANNEL));
    const entry = ds.submitCommit(pending);
    await aliceTablet.engine.confirmCommit(CHANNEL);
    aliceTablet.cursor.set(CHANNEL, entry.seq);
    for (const d of all) {
      const processed = await d.engine.processCommit(CHANNEL, entry.bytes);
      expect(processed.added).toEqual([{ userId: 'alice', deviceId: 'tablet' }]);
      d.cursor.set(CHANNEL, entry.seq);
    }
    await send(ds, bobPhone, CHANNEL, 'hello tablet');
    expect(await catchUp(ds, aliceTablet, CHANNEL)).toEqual(['hello tablet']);
    expect(await catchUp(ds, aliceLaptop, CHANNEL)).toEqual(['hello tablet']);
    expect(names(aliceTablet)).toHaveLength(5);
  });

  it('keeps the ability to decrypt across an export and import of the engine state', async () => {
    const { ds, alicePhone, bobLaptop } = await twoUsersTwoDevices();
    const saved = await bobLaptop.engine.exportState();
    const restored = await createTsMlsEngine({ state: saved, device: { userId: 'bob', deviceId: 'laptop' } });
    expect(restored.identity.signaturePublicKey).toEqual(bobLaptop.engine.identity.signaturePublicKey);
    expect(restored.groups()).toEqual([CHANNEL]);
    expect(restored.epoch(CHANNEL)).toBe(1);
    const entry = await send(ds, alicePhone, CHANNEL, 'after the restart');
    expect(decodeText((await restored.decrypt(CHANNEL, entry.bytes)).plaintext)).toBe('after the restart');
    // And the restored device can send, which the others read.
    const reply = await restored.encrypt(CHANNEL, new TextEncoder().encode('back'));
    expect(decodeText((await alicePhone.engine.decrypt(CHANNEL, reply)).plaintext)).toBe('back');
  });

  it('keeps unused KeyPackages across an export and import, so a Welcome made before the restart opens after it', async () => {
    const ds = new TestDeliveryService();
    const alice = await newDevice(ds, 'alice', 'phone');
    const bob = await newDevice(ds, 'bob', 'phone');
    await alice.engine.createGroup(CHANNEL);
    ds.createChannel(CHANNEL, await alice.engine.exportGroupInfo(CHANNEL));
    const kp = ds.claimKeyPackage(bob.engine.identity);
    const restoredBob = {
      engine: await createTsMlsEngine({ state: await bob.engine.exportState() }),
      cursor: new Map<string, number>(),
      sent: new Set<string>(),
    };
    await commitThrough(ds, alice, CHANNEL, () => alice.engine.addDevices(CHANNEL, [kp]));
    expect(await acceptWelcomes(ds, restoredBob)).toEqual([CHANNEL]);
  });

  it('refuses saved state that is not an engine state, with a typed error', async () => {
    await expect(createTsMlsEngine({ state: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({
      code: 'NATTER_E2EE_STATE_INVALID',
    });
  });

  it('refuses saved state of another device', async () => {
    const engine = await createTsMlsEngine({ device: { userId: 'alice', deviceId: 'phone' } });
    await expect(
      createTsMlsEngine({
        state: await engine.exportState(),
        device: { userId: 'alice', deviceId: 'laptop' },
      }),
    ).rejects.toMatchObject({ code: 'NATTER_E2EE_STATE_INVALID' });
  });
});
