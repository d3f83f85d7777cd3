import { newId } from '@natter/protocol';
import { createNatterServer, silentLogger } from '@natter/server-core';
import { internalsOf } from '@natter/server-core/internals';
import { dieOnError, processStats, serve } from '../lib/ipc.mjs';
import { inBatches, range } from './setup-plan.mjs';

/**
 * One natter chat node of a cluster (scenario 6, cross-node delivery), in its own process: the real
 * `createNatterServer` over `ws` with `cluster: { broker }` (Redis pub/sub or NATS) and the shared
 * store: PostgreSQL (`@natter/storage-postgres`) or the sharded store (`@natter/storage-postgres-sharded`),
 * a schema of the run's own per store. Every node of a
 * configuration gets the same token secret, so a token issued by one node is valid on all of them.
 *
 * `setup` with a `plan` (the first node) also creates the users, tokens and direct channels through the
 * engine parts (storage.accounts, and the token and chat services through `internalsOf`), as natter-server.mjs does; the other nodes
 * only open the store (already migrated by the first) and start listening.
 *
 * The broker is wrapped to count publishes, failed publishes and received envelopes, and every report on
 * `onError` is counted by code: `stats` returns them, so a run shows whether messages really crossed the
 * broker and whether the broker misbehaved.
 */
dieOnError();
let server;
let broker;
const counters = { published: 0, publishFailed: 0, received: 0, errors: {} };

const SECRET = 'bench-cluster-secret-bench-cluster-secret-0123';

async function openBroker({ broker: kind, brokerUrl, prefix }) {
  if (kind === 'redis') {
    const { createRedisBroker } = await import('@natter/broker-redis');
    return createRedisBroker({ url: brokerUrl, channelPrefix: prefix });
  }
  const { createNatsBroker } = await import('@natter/broker-nats');
  return createNatsBroker({ servers: brokerUrl, subjectPrefix: prefix });
}

/** The adapter behind natter's Broker port, counting what passes through it. */
function counted(inner) {
  return {
    async publish(topic, payload) {
      counters.published++;
      try {
        await inner.publish(topic, payload);
      } catch (err) {
        counters.publishFailed++;
        throw err;
      }
    },
    subscribe(topic, handler) {
      return inner.subscribe(topic, (payload) => {
        counters.received++;
        handler(payload);
      });
    },
    onError: (listener) => inner.onError(listener),
    close: () => inner.close(),
  };
}

/**
 * The shared store: the single PostgreSQL (`store: 'postgres'`), or the sharded store over
 * `options.shardUrls` (`sharded-1`, `sharded-3`), each in the run's schema.
 */
async function openStorage(options) {
  // The scenario measures configurations in turns, so a node idles for a few slices between its own;
  // pg's default (10 s) would close its pooled connections meanwhile and the next slice would open
  // new ones (a PostgreSQL backend each) inside the measured window.
  const pool = { idleTimeoutMillis: 120_000 };
  if (options.store?.startsWith('sharded')) {
    const { createShardedPostgresStorage } = await import('@natter/storage-postgres-sharded');
    return createShardedPostgresStorage({ shards: options.shardUrls, schema: options.schema });
  }
  const { createPostgresStorage } = await import('@natter/storage-postgres');
  return createPostgresStorage({ connectionString: options.pgUrl, schema: options.schema, pool });
}

async function setup({ plan, options }) {
  const raw = await openBroker(options);
  raw.onError((err) => {
    const code = String(err?.code ?? 'unknown');
    counters.errors[code] = (counters.errors[code] ?? 0) + 1;
  });
  await raw.ready(10_000);
  broker = counted(raw);
  const storage = await openStorage(options);
  server = createNatterServer({
    storage,
    tokens: { secret: SECRET, accessTtlSeconds: 3600 },
    logger: silentLogger(),
    limits: {
      // The per-connection token bucket protects real servers from floods; here it would only throttle the load.
      sendsPerSecond: 1_000_000,
      sendBurst: 1_000_000,
      heartbeatTimeoutMs: 3_600_000,
    },
    // 8 configurations' users connect from 127.0.0.1 in one burst: the per-address abuse bounds would
    // refuse them (HTTP 429); they have suites of their own.
    resourceLimits: {
      maxConnectionsPerAddress: 1_000_000,
      handshakesPerAddress: { perSecond: 1_000_000, burst: 1_000_000 },
    },
    cluster: { broker, nodeId: options.nodeId },
  });
  // listen() opens the store: the first node creates and migrates the schema (advisory-locked).
  const { port } = await server.listen(0, '127.0.0.1');
  if (!plan) return { ports: [port], users: [], direct: [] };
  const createdAt = Date.now();
  const ids = range(plan.users).map(() => `u_${newId()}`);
  await inBatches(ids, 64, (id, i) =>
    storage.accounts.createUser({
      id,
      username: `xn${i}_${id.slice(-6).toLowerCase()}`,
      displayName: `bench ${i}`,
      passwordHash: null,
      createdAt,
    }),
  );
  const users = await inBatches(ids, 64, async (id, i) => {
    const deviceId = `dev${i}`;
    const { accessToken } = await internalsOf(server).tokens.issue(id, deviceId);
    return { id, token: accessToken, deviceId };
  });
  const direct = await inBatches(range(plan.directPairs ?? 0), 32, async (i) => {
    const channel = await internalsOf(server).service.openDirect(ids[2 * i], ids[2 * i + 1]);
    return channel.id;
  });
  return { ports: [port], users, direct };
}

/** Closes the server, then the broker and the store's pool (which the scenario's schema drop waits for). */
async function shutdown() {
  await server?.close();
  await broker?.close();
  return { closed: true };
}

serve({
  setup,
  shutdown,
  stats: ({ collect }) => ({
    ...processStats({ collect }),
    connections: server ? [...internalsOf(server).hub.all()].length : 0,
    broker: { ...counters, errors: { ...counters.errors } },
  }),
});
