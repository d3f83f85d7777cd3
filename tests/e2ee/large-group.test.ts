import { afterEach, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer } from '../helpers/server.js';
import { loginDevice, MlsDevice } from './mls-device.js';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.stop();
  ts = undefined;
});

/** Runs `fn` over `items`, `width` at a time (the machine has 2 cores; signups hash passwords). */
async function inBatches<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

describe('E2EE Delivery Service: a group of 100 devices', () => {
  it('50 users with two devices each: one commit adds 99 devices through the server, and members decrypt', async () => {
    ts = await startServer();
    const url = ts.url;
    const users = await inBatches(
      Array.from({ length: 50 }, (_, i) => i),
      5,
      () => signup(url),
    );
    const seconds = await inBatches(users, 5, (u) => loginDevice(url, u));
    const devices = await inBatches([...users, ...seconds], 5, (session) =>
      MlsDevice.create(url, session, 1),
    );
    const [creator, ...rest] = devices;
    const group = await api<{ channel: { id: string } }>(url, users[0], 'POST', '/v1/groups', {
      name: 'hundred',
      memberIds: users.slice(1).map((u) => u.id),
      encrypted: true,
    });
    expect(group.status).toBe(201);
    const channelId = group.body.channel.id;
    await creator!.engine.createGroup(channelId);
    // One commit of 99 devices: its commit, Welcome and GroupInfo are above the default 64 KiB body limit.
    await creator!.add(
      channelId,
      rest.map((d) => d.ref),
    );
    expect(creator!.engine.members(channelId)).toHaveLength(100);
    const channel = await creator!.call<{ channel: { mlsEpoch: number } }>(
      'GET',
      `/v1/channels/${channelId}`,
    );
    expect(channel.body.channel.mlsEpoch).toBe(1);
    // A sample of the 99 joins from its Welcome and reads the creator's message.
    const sample = [rest[0]!, rest[48]!, rest[98]!];
    for (const d of sample) expect(await d.acceptWelcomes()).toEqual([channelId]);
    expect((await creator!.send(channelId, 'one hundred devices')).status).toBe(200);
    for (const d of sample) {
      await d.catchUp(channelId);
      expect(d.received.get(channelId)).toEqual(['one hundred devices']);
    }
  }, 300_000);
});
