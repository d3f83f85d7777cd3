import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { device, online, read, type TestDevice, waitFor } from './sdk-helpers.js';

let server: TestServer;
const devices: TestDevice[] = [];
const track = (d: TestDevice) => {
  devices.push(d);
  return d;
};

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  for (const d of devices) await d.client.close();
  await server.stop();
});

describe('end-to-end encrypted channels through the SDK', () => {
  it('two users with two devices each chat in an encrypted group and an encrypted 1-1', async () => {
    const ada1 = await online(track(device(server.url)), 'ada', true);
    const ada2 = await online(track(device(server.url)), 'ada', false);
    const bob1 = await online(track(device(server.url)), 'bob', true);
    const bob2 = await online(track(device(server.url)), 'bob', false);
    const bobId = bob1.client.userId!;

    const group = await ada1.client.createGroup('secret plans', [bobId], { encrypted: true });
    expect(group.encrypted).toBe(true);
    await ada1.client.send(group.id, 'hello from ada').acked;
    for (const d of [ada2, bob1, bob2])
      await waitFor(() => read(d, group.id).includes('hello from ada'), 'the first message');
    await bob2.client.send(group.id, 'bob here, on my second phone').acked;
    for (const d of [ada1, ada2, bob1])
      await waitFor(() => read(d, group.id).includes('bob here, on my second phone'), 'the reply');
    // The sender sees its own message too (from the plaintext it kept; MLS cannot decrypt its own).
    await waitFor(() => read(bob2, group.id).includes('bob here, on my second phone'), 'the echo');

    const direct = await bob1.client.openDirect(ada1.client.userId!, { encrypted: true });
    expect(direct.encrypted).toBe(true);
    await bob1.client.send(direct.id, 'just us two').acked;
    for (const d of [ada1, ada2, bob2])
      await waitFor(() => read(d, direct.id).includes('just us two'), 'the 1-1 message');
    for (const d of [ada1, ada2, bob1, bob2]) expect(d.failures).toEqual([]);
  });
});
