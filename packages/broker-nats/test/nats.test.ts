import { createConnection, createServer, type Socket } from 'node:net';
import { runBrokerConformance, uniqueToken, until } from '@natter/broker-conformance';
import { describe, expect, it } from 'vitest';
import { BrokerErrorCode, createNatsBroker, isBrokerError } from '../src/index.js';
import { serviceReachable } from './service.js';

const servers = process.env.NATTER_NATS_URL ?? 'nats://127.0.0.1:4222';
const available = await serviceReachable(servers.replace(/^nats:/, 'tcp:'), 'NATTER_NATS_URL', 'NATS');

if (available) {
  runBrokerConformance({
    name: 'nats',
    factory: async () => {
      const broker = createNatsBroker({ servers });
      await broker.ready();
      return broker;
    },
    unreachable: () => createNatsBroker({ servers: '127.0.0.1:1' }),
  });
}

describe.skipIf(!available)('nats broker beyond the shared suite', () => {
  it('rejects topics that are not valid NATS subjects', async () => {
    const broker = createNatsBroker({ servers });
    try {
      await broker.ready();
      for (const bad of ['a b', 'a..b', 'a.*', 'a.>', '', '.a']) {
        await expect(broker.publish(bad, new Uint8Array(1)), bad).rejects.toMatchObject({
          code: BrokerErrorCode.BAD_DATA,
        });
      }
    } finally {
      await broker.close();
    }
  });

  it('keeps retrying a first connection that fails, reporting each failure', async () => {
    const broker = createNatsBroker({ servers: '127.0.0.1:1', timeoutMs: 300 });
    const errors: Error[] = [];
    broker.onError((e) => errors.push(e));
    try {
      await until(() => errors.length >= 2, 5_000, 'two failed attempts');
      expect(errors.every((e) => isBrokerError(e, BrokerErrorCode.UNREACHABLE))).toBe(true);
      await expect(broker.subscribe(`natter.test.${uniqueToken()}`, () => {})).rejects.toMatchObject({
        code: BrokerErrorCode.UNREACHABLE,
      });
    } finally {
      await broker.close();
    }
  });
});

/** A loopback TCP proxy to NATS whose connections the test can cut, as a network blip would. */
async function blipProxy(target: URL) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `127.0.0.1:${port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!available)('nats broker across a blip', () => {
  it('reports the drop and the recovery, and keeps its subscriptions', async () => {
    const proxy = await blipProxy(new URL(servers.includes('://') ? servers : `nats://${servers}`));
    const broker = createNatsBroker({ servers: proxy.url });
    const other = createNatsBroker({ servers });
    try {
      await Promise.all([broker.ready(), other.ready()]);
      const codes: string[] = [];
      broker.onError((e) => codes.push((e as unknown as { code: string }).code));
      const topic = `natter.test.${uniqueToken()}`;
      const received: string[] = [];
      await broker.subscribe(topic, (p) => received.push(Buffer.from(p).toString()));
      proxy.cut();
      await until(() => codes.includes(BrokerErrorCode.UNREACHABLE), 5_000, 'the drop to be reported');
      await until(() => codes.includes(BrokerErrorCode.RECONNECTED), 10_000, 'the recovery to be reported');
      await other.publish(topic, Buffer.from('after the blip'));
      await until(() => received.length === 1, 5_000, 'delivery after reconnect');
      expect(received).toEqual(['after the blip']);
    } finally {
      await Promise.all([broker.close(), other.close()]);
      await proxy.close();
    }
  });
});
