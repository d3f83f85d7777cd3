import {
  acquireServiceLock,
  runBrokerConformance,
  runPresenceStoreConformance,
  runRegistryConformance,
  uniqueToken,
  until,
} from '@natter/broker-conformance';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BrokerErrorCode,
  createRedisBroker,
  createRedisNodeRegistry,
  createRedisPresenceStore,
  isBrokerError,
} from '../src/index.js';
import { serviceReachable } from './service.js';

const url = process.env.NATTER_REDIS_URL ?? 'redis://127.0.0.1:6379';
// tests/cluster restarts Redis mid-stream while holding this lock; we hold it while we use Redis.
const release = await acquireServiceLock('redis');
afterAll(() => release());
const available = await serviceReachable(url, 'NATTER_REDIS_URL', 'Redis');

/** Deletes every key under `prefix` (test isolation on a shared Redis). */
async function deleteKeys(prefix: string): Promise<void> {
  const admin = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await admin.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
}

const unreachableUrl = 'redis://127.0.0.1:1';

if (available) {
  for (const sharded of [false, true]) {
    runBrokerConformance({
      name: sharded ? 'redis (sharded pub/sub)' : 'redis',
      factory: async () => {
        const broker = createRedisBroker({ url, sharded });
        await broker.ready();
        return broker;
      },
      unreachable: () => createRedisBroker({ url: unreachableUrl, sharded }),
    });
  }

  for (const buckets of [1, 4]) {
    runPresenceStoreConformance({
      name: `redis (${buckets} bucket${buckets > 1 ? 's' : ''})`,
      factory: async () => {
        const keyPrefix = `natter:test:${uniqueToken()}:presence:`;
        return {
          store: createRedisPresenceStore({ url, keyPrefix, buckets }),
          another: async () => createRedisPresenceStore({ url, keyPrefix, buckets }),
          cleanup: () => deleteKeys(keyPrefix),
        };
      },
    });
  }

  runRegistryConformance({
    name: 'redis',
    factory: async () => {
      const keyPrefix = `natter:test:${uniqueToken()}:nodes:`;
      return {
        registry: createRedisNodeRegistry({ url, keyPrefix }),
        another: async () => createRedisNodeRegistry({ url, keyPrefix }),
        cleanup: () => deleteKeys(keyPrefix),
      };
    },
  });
}

describe.skipIf(!available)('redis adapters beyond the shared suites', () => {
  const admin = available ? new Redis(url) : undefined;
  afterAll(() => admin?.disconnect());

  it('reports a dropped subscriber connection, resubscribes, and reports the recovery', async () => {
    const name = `natter-test-${uniqueToken()}`;
    const broker = createRedisBroker({ url, redisOptions: { connectionName: name } });
    const other = createRedisBroker({ url });
    try {
      await Promise.all([broker.ready(), other.ready()]);
      const codes: string[] = [];
      broker.onError((err) => {
        expect(isBrokerError(err)).toBe(true);
        codes.push((err as unknown as { code: string }).code);
      });
      const topic = `natter.test.${uniqueToken()}`;
      const received: string[] = [];
      await broker.subscribe(topic, (p) => received.push(Buffer.from(p).toString()));
      // Kill only this broker's connections, as a network blip would.
      const list = (await admin!.client('LIST')) as string;
      const ids = list
        .split('\n')
        .filter((line) => line.includes(` name=${name} `))
        .map((line) => /id=(\d+)/.exec(line)?.[1]);
      expect(ids.length).toBe(2);
      for (const id of ids) await admin!.client('KILL', 'ID', id!);
      await until(() => codes.includes(BrokerErrorCode.UNREACHABLE), 5_000, 'the drop to be reported');
      await until(
        () => codes.filter((c) => c === BrokerErrorCode.RECONNECTED).length >= 2,
        10_000,
        'both connections to report their recovery',
      );
      // Resubscribed: traffic flows again without calling subscribe.
      await other.publish(topic, Buffer.from('after the blip'));
      await until(() => received.length === 1, 5_000, 'delivery after reconnect');
      expect(received).toEqual(['after the blip']);
      // And publishing from the reconnected publisher works too.
      await broker.publish(topic, Buffer.from('own'));
      await until(() => received.length === 2, 5_000, 'own delivery after reconnect');
    } finally {
      await Promise.all([broker.close(), other.close()]);
    }
  });

  it('expires more users than one script batch, each once', async () => {
    const keyPrefix = `natter:test:${uniqueToken()}:presence:`;
    const store = createRedisPresenceStore({ url, keyPrefix, expireBatch: 7 });
    try {
      const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
      const came = await store.touch(
        users.map((userId) => ({ userId, deviceKey: 'd', at: 1_000 })),
        30_000,
      );
      expect(came.sort()).toEqual([...users].sort());
      const expired = await store.expire(2_000);
      expect(expired.map((e) => e.userId).sort()).toEqual([...users].sort());
      expect(expired.every((e) => e.lastActiveAt === 1_000)).toBe(true);
    } finally {
      await store.close();
      await deleteKeys(keyPrefix);
    }
  });

  it('keeps a safety TTL on every presence key', async () => {
    const keyPrefix = `natter:test:${uniqueToken()}:presence:`;
    const store = createRedisPresenceStore({ url, keyPrefix, recordTtlMs: 60_000 });
    try {
      await store.touch([{ userId: 'u', deviceKey: 'd', at: Date.now() }], 1_000);
      const keys = await admin!.keys(`${keyPrefix}*`);
      expect(keys.length).toBe(3);
      for (const key of keys) {
        const ttl = await admin!.pttl(key);
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(key.includes(':st:') ? 60_000 : 4_000);
      }
    } finally {
      await store.close();
      await deleteKeys(keyPrefix);
    }
  });

  it('leaves no registry keys behind once every entry expired', async () => {
    const keyPrefix = `natter:test:${uniqueToken()}:nodes:`;
    const registry = createRedisNodeRegistry({ url, keyPrefix });
    try {
      await registry.heartbeat({ id: 'a', wsUrl: 'ws://x', region: 'r', capacity: 1, load: 0 }, 200);
      await registry.heartbeat({ id: 'b', wsUrl: 'ws://x', region: 'r', capacity: 1, load: 0 }, 400);
      expect((await admin!.keys(`${keyPrefix}*`)).length).toBe(3);
      await new Promise((r) => setTimeout(r, 600));
      expect(await admin!.keys(`${keyPrefix}*`)).toEqual([]);
    } finally {
      await registry.close();
      await deleteKeys(keyPrefix);
    }
  });

  it('skips malformed registry entries and reports them', async () => {
    const keyPrefix = `natter:test:${uniqueToken()}:nodes:`;
    const bad: Error[] = [];
    const registry = createRedisNodeRegistry({ url, keyPrefix, onBadEntry: (e) => bad.push(e) });
    try {
      await registry.heartbeat({ id: 'good', wsUrl: 'ws://x', region: 'r', capacity: 1, load: 0 }, 10_000);
      await registry.heartbeat({ id: 'evil', wsUrl: 'ws://x', region: 'r', capacity: 1, load: 0 }, 10_000);
      await admin!.set(`${keyPrefix}{index}:evil`, '{"id": 5}', 'PX', 10_000);
      expect((await registry.list()).map((n) => n.id)).toEqual(['good']);
      expect(bad).toHaveLength(1);
    } finally {
      await registry.close();
      await deleteKeys(keyPrefix);
    }
  });
});
