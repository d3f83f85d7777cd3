import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { device, online, read, type TestDevice, waitFor } from './sdk-helpers.js';

const USERS = 25;
const DEVICES_PER_USER = 4;

let server: TestServer;
const devices: TestDevice[] = [];

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await Promise.all(devices.map((d) => d.client.close()));
  await server.stop();
});

describe('a large encrypted group', () => {
  it('100 devices of 25 users: one commit adds 99 devices, every device reads a message from any other', async () => {
    // Devices come online a few at a time: the machine is small and signup/login hash passwords.
    for (let u = 0; u < USERS; u++) {
      const name = `crowd${String(u).padStart(2, '0')}`;
      devices.push(await online(device(server.url), name, true));
      const more = await Promise.all(
        Array.from({ length: DEVICES_PER_USER - 1 }, () => online(device(server.url), name, false)),
      );
      devices.push(...more);
    }
    expect(devices).toHaveLength(100);
    const [creator, ...others] = devices;
    const memberIds = [...new Set(others.map((d) => d.client.userId!))].filter(
      (id) => id !== creator!.client.userId,
    );
    const group = await creator!.client.createGroup('everyone', memberIds, { encrypted: true });
    expect((await creator!.client.e2ee()).mls!.members(group.id)).toHaveLength(100);

    await creator!.client.send(group.id, 'hello, hundred').acked;
    for (const d of others)
      await waitFor(() => read(d, group.id).includes('hello, hundred'), 'every device to read it', 120_000);
    const last = devices[99]!;
    await last.client.send(group.id, 'and back').acked;
    for (const d of devices.slice(0, 99))
      await waitFor(() => read(d, group.id).includes('and back'), 'the answer', 120_000);
    for (const d of devices) expect(d.failures).toEqual([]);
  }, 600_000);
});
