/**
 * A group of 100 devices (50 users with two devices each, the target) on real MLS: one commit adds
 * 99 devices, every device reads a message, one device is removed and reads nothing after. Figures are
 * printed, not asserted: the machine is shared (packages/e2ee/bench/ has the measurements).
 */
import { describe, expect, it } from 'vitest';
import {
  acceptWelcomes,
  catchUp,
  commitThrough,
  TestDeliveryService,
  type TestDevice,
} from './helpers/delivery-service.js';
import { decodeText, newDevice, send } from './helpers/devices.js';

const CHANNEL = 'ch_hundred';

describe('a group of 100 devices', () => {
  it('adds 99 devices in one commit, delivers a message to all, and shuts out a removed one', async () => {
    const ds = new TestDeliveryService();
    const devices: TestDevice[] = [];
    for (let u = 0; u < 50; u++)
      for (const d of ['phone', 'laptop']) devices.push(await newDevice(ds, `user${u}`, d, 1));
    const [owner, ...rest] = devices as [TestDevice, ...TestDevice[]];
    await owner.engine.createGroup(CHANNEL);
    ds.createChannel(CHANNEL, await owner.engine.exportGroupInfo(CHANNEL));

    const t0 = performance.now();
    const pending = await owner.engine.addDevices(
      CHANNEL,
      rest.map((d) => ds.claimKeyPackage(d.engine.identity)),
    );
    const commitMs = performance.now() - t0;
    const accepted = ds.submitCommit(pending);
    await owner.engine.confirmCommit(CHANNEL);
    owner.cursor.set(CHANNEL, accepted.seq);
    const t1 = performance.now();
    for (const d of rest) expect(await acceptWelcomes(ds, d)).toEqual([CHANNEL]);
    const joinMs = (performance.now() - t1) / rest.length;
    console.log(
      `100 devices: add-99 commit ${commitMs.toFixed(0)} ms (${pending.commit.length} B commit, ` +
        `${pending.welcome!.length} B Welcome, ${pending.groupInfo.length} B GroupInfo); ` +
        `join from Welcome ${joinMs.toFixed(0)} ms per device`,
    );
    for (const d of devices) expect(d.engine.members(CHANNEL)).toHaveLength(100);

    await send(ds, rest[41]!, CHANNEL, 'hello, hundred');
    for (const d of devices.filter((x) => x !== rest[41]))
      expect(await catchUp(ds, d, CHANNEL)).toEqual(['hello, hundred']);

    const removed = rest[97]!;
    await commitThrough(ds, owner, CHANNEL, () =>
      owner.engine.removeDevices(CHANNEL, [removed.engine.identity]),
    );
    const stillIn = devices.filter((d) => d !== removed && d !== owner);
    for (const d of stillIn) await catchUp(ds, d, CHANNEL);
    expect((await catchUp(ds, removed, CHANNEL)).length).toBe(0);
    expect(removed.engine.groups()).toEqual([]);
    const secret = await send(ds, owner, CHANNEL, 'after the removal');
    await expect(removed.engine.decrypt(CHANNEL, secret.bytes)).rejects.toMatchObject({
      code: 'NATTER_E2EE_UNKNOWN_GROUP',
    });
    expect(decodeText((await stillIn[0]!.engine.decrypt(CHANNEL, secret.bytes)).plaintext)).toBe(
      'after the removal',
    );
    for (const d of stillIn) expect(d.engine.members(CHANNEL)).toHaveLength(99);
  }, 120_000);
});
