/**
 * Bad input and faults: a forged commit, a replayed Welcome, a ciphertext of another group, a commit of a
 * stale epoch, a gap in the log, two members committing at once, a device that crashed mid-commit, a group
 * state that forked. Each ends in a typed error with the group unchanged, or in the documented recovery.
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

const CHANNEL = 'ch_team';

async function threeDevices() {
  const ds = new TestDeliveryService();
  const [alice, bob, carol] = await Promise.all([
    newDevice(ds, 'alice', 'd1'),
    newDevice(ds, 'bob', 'd1'),
    newDevice(ds, 'carol', 'd1'),
  ]);
  await alice.engine.createGroup(CHANNEL);
  ds.createChannel(CHANNEL, await alice.engine.exportGroupInfo(CHANNEL));
  const kps = [bob, carol].map((d) => ds.claimKeyPackage(d.engine.identity));
  await commitThrough(ds, alice, CHANNEL, () => alice.engine.addDevices(CHANNEL, kps));
  await acceptWelcomes(ds, bob);
  await acceptWelcomes(ds, carol);
  return { ds, alice, bob, carol };
}

/** A copy of the bytes with one bit flipped at `at` (from the end when negative). */
function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const i = at < 0 ? out.length + at : at;
  out[i] = out[i]! ^ 0x01;
  return out;
}

describe('bad input and faults', () => {
  it('refuses a forged commit (tampered ciphertext) with COMMIT_REJECTED and keeps the group as it was', async () => {
    const { alice, bob } = await threeDevices();
    const pending = await alice.engine.update(CHANNEL);
    await expect(bob.engine.processCommit(CHANNEL, flip(pending.commit, -5))).rejects.toMatchObject({
      code: 'NATTER_E2EE_COMMIT_REJECTED',
    });
    expect(bob.engine.epoch(CHANNEL)).toBe(1);
    // The genuine commit still applies afterwards.
    await expect(bob.engine.processCommit(CHANNEL, pending.commit)).resolves.toMatchObject({ epoch: 2 });
  });

  it('refuses a commit forged by a device outside the group', async () => {
    const { ds, bob } = await threeDevices();
    // Mallory runs her own group under the same id and commits in it: right framing, wrong keys.
    const mallory = await newDevice(ds, 'mallory', 'd1');
    await mallory.engine.createGroup(CHANNEL);
    const forged = await mallory.engine.update(CHANNEL);
    await mallory.engine.confirmCommit(CHANNEL);
    const forgedAtEpoch1 = await mallory.engine.update(CHANNEL);
    expect(forged.epoch).toBe(0);
    await expect(bob.engine.processCommit(CHANNEL, forgedAtEpoch1.commit)).rejects.toMatchObject({
      code: 'NATTER_E2EE_COMMIT_REJECTED',
    });
    expect(bob.engine.epoch(CHANNEL)).toBe(1);
  });

  it('refuses a replayed Welcome: the single-use KeyPackage is spent', async () => {
    const ds = new TestDeliveryService();
    const alice = await newDevice(ds, 'alice', 'd1');
    const bob = await newDevice(ds, 'bob', 'd1');
    await alice.engine.createGroup(CHANNEL);
    ds.createChannel(CHANNEL, await alice.engine.exportGroupInfo(CHANNEL));
    const pending = await alice.engine.addDevices(CHANNEL, [ds.claimKeyPackage(bob.engine.identity)]);
    expect(await bob.engine.joinFromWelcome(pending.welcome!)).toBe(CHANNEL);
    await expect(bob.engine.joinFromWelcome(pending.welcome!)).rejects.toMatchObject({
      code: 'NATTER_E2EE_WELCOME_REJECTED',
    });
  });

  it('refuses a replayed Welcome made with the last-resort KeyPackage: the group is already joined', async () => {
    const ds = new TestDeliveryService();
    const alice = await newDevice(ds, 'alice', 'd1');
    const bob = await newDevice(ds, 'bob', 'd1', 0);
    await alice.engine.createGroup(CHANNEL);
    ds.createChannel(CHANNEL, await alice.engine.exportGroupInfo(CHANNEL));
    const pending = await alice.engine.addDevices(CHANNEL, [ds.claimKeyPackage(bob.engine.identity)]);
    await bob.engine.joinFromWelcome(pending.welcome!);
    await expect(bob.engine.joinFromWelcome(pending.welcome!)).rejects.toMatchObject({
      code: 'NATTER_E2EE_GROUP_EXISTS',
    });
  });

  it('refuses a Welcome addressed to another device', async () => {
    const { ds, alice, carol } = await threeDevices();
    const dave = await newDevice(ds, 'dave', 'd1');
    const pending = await alice.engine.addDevices(CHANNEL, [ds.claimKeyPackage(dave.engine.identity)]);
    await expect(carol.engine.joinFromWelcome(pending.welcome!)).rejects.toMatchObject({
      code: 'NATTER_E2EE_WELCOME_REJECTED',
    });
  });

  it('refuses a ciphertext of another group with WRONG_GROUP, even when both groups have the same members', async () => {
    const { ds, alice, bob } = await threeDevices();
    await alice.engine.createGroup('ch_other');
    ds.createChannel('ch_other', await alice.engine.exportGroupInfo('ch_other'));
    await commitThrough(ds, alice, 'ch_other', () =>
      alice.engine.addDevices('ch_other', [ds.claimKeyPackage(bob.engine.identity)]),
    );
    await acceptWelcomes(ds, bob);
    const other = await alice.engine.encrypt('ch_other', new TextEncoder().encode('for ch_other only'));
    await expect(bob.engine.decrypt(CHANNEL, other)).rejects.toMatchObject({
      code: 'NATTER_E2EE_WRONG_GROUP',
    });
    expect(decodeText((await bob.engine.decrypt('ch_other', other)).plaintext)).toBe('for ch_other only');
  });

  it('refuses a tampered application message with DECRYPT_FAILED and still reads the next one', async () => {
    const { alice, bob } = await threeDevices();
    const first = await alice.engine.encrypt(CHANNEL, new TextEncoder().encode('one'));
    await expect(bob.engine.decrypt(CHANNEL, flip(first, -3))).rejects.toMatchObject({
      code: 'NATTER_E2EE_DECRYPT_FAILED',
    });
    const second = await alice.engine.encrypt(CHANNEL, new TextEncoder().encode('two'));
    expect(decodeText((await bob.engine.decrypt(CHANNEL, second)).plaintext)).toBe('two');
  });

  it("answers DECRYPT_FAILED for a device's own message: MLS deletes a sender's key once used", async () => {
    const { alice } = await threeDevices();
    const own = await alice.engine.encrypt(CHANNEL, new TextEncoder().encode('mine'));
    await expect(alice.engine.decrypt(CHANNEL, own)).rejects.toMatchObject({
      code: 'NATTER_E2EE_DECRYPT_FAILED',
    });
  });

  it('refuses bytes that are not an MLS message at all', async () => {
    const { bob } = await threeDevices();
    const junk = new TextEncoder().encode('hello');
    await expect(bob.engine.decrypt(CHANNEL, junk)).rejects.toMatchObject({
      code: 'NATTER_E2EE_DECRYPT_FAILED',
    });
    await expect(bob.engine.processCommit(CHANNEL, junk)).rejects.toMatchObject({
      code: 'NATTER_E2EE_COMMIT_REJECTED',
    });
    await expect(bob.engine.joinFromWelcome(junk)).rejects.toMatchObject({
      code: 'NATTER_E2EE_WELCOME_REJECTED',
    });
    await expect(bob.engine.addDevices(CHANNEL, [junk])).rejects.toMatchObject({
      code: 'NATTER_E2EE_KEY_PACKAGE_INVALID',
    });
  });

  it('refuses a commit of a stale epoch (already applied, or a replay) with STALE_EPOCH', async () => {
    const { ds, alice, bob } = await threeDevices();
    await commitThrough(ds, alice, CHANNEL, () => alice.engine.update(CHANNEL));
    await catchUp(ds, bob, CHANNEL);
    const [add, update] = [ds.logSince(CHANNEL, 0)[0]!, ds.logSince(CHANNEL, 1)[0]!];
    expect(bob.engine.epoch(CHANNEL)).toBe(2);
    for (const replay of [add, update])
      await expect(bob.engine.processCommit(CHANNEL, replay.bytes)).rejects.toMatchObject({
        code: 'NATTER_E2EE_STALE_EPOCH',
      });
    expect(bob.engine.epoch(CHANNEL)).toBe(2);
  });

  it('reports a commit from beyond a gap in the log with EPOCH_GAP, and applies it once the gap is filled', async () => {
    const { ds, alice, bob } = await threeDevices();
    await commitThrough(ds, alice, CHANNEL, () => alice.engine.update(CHANNEL));
    await commitThrough(ds, alice, CHANNEL, () => alice.engine.update(CHANNEL));
    const [first, second] = ds.logSince(CHANNEL, 1);
    await expect(bob.engine.processCommit(CHANNEL, second!.bytes)).rejects.toMatchObject({
      code: 'NATTER_E2EE_EPOCH_GAP',
    });
    await bob.engine.processCommit(CHANNEL, first!.bytes);
    await expect(bob.engine.processCommit(CHANNEL, second!.bytes)).resolves.toMatchObject({ epoch: 3 });
  });

  it('lets exactly one of two members committing at once win; the other processes the winner and retries', async () => {
    const { ds, alice, bob, carol } = await threeDevices();
    const dave = await newDevice(ds, 'dave', 'd1');
    const erin = await newDevice(ds, 'erin', 'd1');
    // Both make a commit for epoch 1 before either reaches the server.
    const aliceAdds = await alice.engine.addDevices(CHANNEL, [ds.claimKeyPackage(dave.engine.identity)]);
    const bobAdds = await bob.engine.addDevices(CHANNEL, [ds.claimKeyPackage(erin.engine.identity)]);
    expect([aliceAdds.epoch, bobAdds.epoch]).toEqual([1, 1]);

    const accepted = ds.submitCommit(aliceAdds);
    expect(() => ds.submitCommit(bobAdds)).toThrow(
      expect.objectContaining({ code: 'NATTER_E2EE_STALE_EPOCH' }),
    );
    await alice.engine.confirmCommit(CHANNEL);
    alice.cursor.set(CHANNEL, accepted.seq);

    // Bob reads the winner from the log: his own pending commit is dropped and reported.
    const processed = await bob.engine.processCommit(CHANNEL, accepted.bytes);
    expect(processed).toMatchObject({ epoch: 2, pendingDiscarded: true, ownCommit: false });
    expect(bob.engine.pendingCommit(CHANNEL)).toBeUndefined();
    bob.cursor.set(CHANNEL, accepted.seq);
    // He redoes his change in the new epoch (a fresh KeyPackage: the first claim's Welcome never left).
    const retried = await commitThrough(ds, bob, CHANNEL, () =>
      bob.engine.addDevices(CHANNEL, [ds.claimKeyPackage(erin.engine.identity)]),
    );
    expect(retried.attempts).toBe(1);

    await acceptWelcomes(ds, dave);
    await acceptWelcomes(ds, erin);
    for (const d of [alice, carol, dave]) await catchUp(ds, d, CHANNEL);
    const everyone: TestDevice[] = [alice, bob, carol, dave, erin];
    for (const d of everyone) expect(d.engine.epoch(CHANNEL)).toBe(3);
    await send(ds, erin, CHANNEL, 'no fork here');
    for (const d of [alice, bob, carol, dave])
      expect(await catchUp(ds, d, CHANNEL)).toEqual(['no fork here']);
  });

  it('retries automatically through the SDK loop when its commit lost the race', async () => {
    const { ds, alice, bob } = await threeDevices();
    // Alice's commit lands first; bob's loop submits, is refused, catches up and recommits.
    await alice.engine.update(CHANNEL);
    const first = ds.submitCommit(alice.engine.pendingCommit(CHANNEL)!);
    await alice.engine.confirmCommit(CHANNEL);
    alice.cursor.set(CHANNEL, first.seq);
    const result = await commitThrough(ds, bob, CHANNEL, () => bob.engine.update(CHANNEL));
    expect(result.attempts).toBe(2);
    expect(bob.engine.epoch(CHANNEL)).toBe(3);
    await catchUp(ds, alice, CHANNEL);
    expect(alice.engine.epoch(CHANNEL)).toBe(3);
  });

  it('refuses a second change while a commit awaits the server', async () => {
    const { alice } = await threeDevices();
    await alice.engine.update(CHANNEL);
    await expect(alice.engine.update(CHANNEL)).rejects.toMatchObject({ code: 'NATTER_E2EE_COMMIT_PENDING' });
    await alice.engine.discardCommit(CHANNEL);
    await expect(alice.engine.discardCommit(CHANNEL)).rejects.toMatchObject({
      code: 'NATTER_E2EE_NO_PENDING_COMMIT',
    });
  });

  it('recovers a device that crashed mid-commit: the saved pending commit is settled by the log', async () => {
    const { ds, alice, bob } = await threeDevices();
    const pending = await alice.engine.update(CHANNEL);
    const saved = await alice.engine.exportState();
    // The commit reached the server, then the device died before it could confirm.
    const entry = ds.submitCommit(pending);
    const restarted = await createTsMlsEngine({ state: saved });
    expect(restarted.pendingCommit(CHANNEL)?.commit).toEqual(pending.commit);
    // Reading its own commit back from the log confirms it.
    const settled = await restarted.processCommit(CHANNEL, entry.bytes);
    expect(settled).toMatchObject({ ownCommit: true, epoch: 2 });
    await catchUp(ds, bob, CHANNEL);
    const message = await bob.engine.encrypt(CHANNEL, new TextEncoder().encode('after the crash'));
    expect(decodeText((await restarted.decrypt(CHANNEL, message)).plaintext)).toBe('after the crash');
  });

  it('recovers a device that crashed before its commit reached the server: the winner discards it', async () => {
    const { ds, alice, bob } = await threeDevices();
    await alice.engine.update(CHANNEL);
    const restarted = await createTsMlsEngine({ state: await alice.engine.exportState() });
    await commitThrough(ds, bob, CHANNEL, () => bob.engine.update(CHANNEL));
    const winner = ds.logSince(CHANNEL, 1)[0]!;
    await expect(restarted.processCommit(CHANNEL, winner.bytes)).resolves.toMatchObject({
      pendingDiscarded: true,
      epoch: 2,
    });
  });

  it('detects a forked device and repairs it by rejoining with an external commit', async () => {
    const { ds, alice, bob, carol } = await threeDevices();
    // Carol breaks the rule: she applies her own commit although the server never accepted it.
    await carol.engine.update(CHANNEL);
    await carol.engine.confirmCommit(CHANNEL);
    await commitThrough(ds, alice, CHANNEL, () => alice.engine.update(CHANNEL));
    const winner = ds.logSince(CHANNEL, 1)[0]!;
    // Detected: the winner is of an epoch carol has left, and messages of the group no longer decrypt.
    await expect(carol.engine.processCommit(CHANNEL, winner.bytes)).rejects.toMatchObject({
      code: 'NATTER_E2EE_STALE_EPOCH',
    });
    await catchUp(ds, bob, CHANNEL);
    const message = await send(ds, bob, CHANNEL, 'are you there?');
    await expect(carol.engine.decrypt(CHANNEL, message.bytes)).rejects.toMatchObject({
      code: 'NATTER_E2EE_DECRYPT_FAILED',
    });
    // Repaired: she rejoins from the stored GroupInfo; the commit replaces her old leaf.
    const rejoin = await carol.engine.joinByExternalCommit(ds.groupInfo(CHANNEL));
    const entry = ds.submitCommit(rejoin);
    await carol.engine.confirmCommit(CHANNEL);
    carol.cursor.set(CHANNEL, entry.seq);
    for (const d of [alice, bob]) {
      await catchUp(ds, d, CHANNEL);
      expect(d.engine.members(CHANNEL)).toHaveLength(3);
    }
    await send(ds, bob, CHANNEL, 'welcome back');
    expect(await catchUp(ds, carol, CHANNEL)).toEqual(['welcome back']);
  });

  it('refuses a KeyPackage of a device the authenticator does not know', async () => {
    const ds = new TestDeliveryService();
    const alice = await createTsMlsEngine({
      device: { userId: 'alice', deviceId: 'd1' },
      authenticate: (device) => device.userId !== 'mallory',
    });
    const mallory = await newDevice(ds, 'mallory', 'd1');
    await alice.createGroup(CHANNEL);
    await expect(
      alice.addDevices(CHANNEL, [ds.claimKeyPackage(mallory.engine.identity)]),
    ).rejects.toMatchObject({
      code: 'NATTER_E2EE_KEY_PACKAGE_INVALID',
    });
    expect(alice.pendingCommit(CHANNEL)).toBeUndefined();
  });

  it('refuses to remove a device that is not in the group', async () => {
    const { alice } = await threeDevices();
    await expect(
      alice.engine.removeDevices(CHANNEL, [{ userId: 'zed', deviceId: 'd1' }]),
    ).rejects.toMatchObject({
      code: 'NATTER_E2EE_NOT_IN_GROUP',
    });
  });

  it('answers with UNKNOWN_GROUP for a group this device is not in', async () => {
    const { bob } = await threeDevices();
    await expect(bob.engine.encrypt('ch_nowhere', new Uint8Array([1]))).rejects.toMatchObject({
      code: 'NATTER_E2EE_UNKNOWN_GROUP',
    });
    expect(() => bob.engine.epoch('ch_nowhere')).toThrow(
      expect.objectContaining({ code: 'NATTER_E2EE_UNKNOWN_GROUP' }),
    );
  });

  it('reads messages sent in the epoch before a commit after processing it (kept receiver keys)', async () => {
    const { ds, alice, bob } = await threeDevices();
    const early = await send(ds, alice, CHANNEL, 'sent in epoch 1');
    await commitThrough(ds, alice, CHANNEL, () => alice.engine.update(CHANNEL));
    const update = ds.logSince(CHANNEL, early.seq)[0]!;
    await bob.engine.processCommit(CHANNEL, update.bytes);
    const got = await bob.engine.decrypt(CHANNEL, early.bytes);
    expect(got).toMatchObject({ epoch: 1 });
    expect(decodeText(got.plaintext)).toBe('sent in epoch 1');
  });
});
