import { join } from 'node:path';
import { createNatterServer, silentLogger } from '@natter/server-core';
import { internalsOf } from '@natter/server-core/internals';
import { createMemoryStorage } from '@natter/storage-memory';
import { dieOnError, processStats, scratchDir, serve } from '../lib/ipc.mjs';
import { seedPlan } from './seed-natter.mjs';

/**
 * The real natter server (createNatterServer over `ws`) in its own process. `store` picks the adapter:
 * `sqlite` (durable: synchronous=full, group commit), `sqlite-normal` or `memory`. `sqliteModule` may
 * point at another build of the SQLite adapter: how a suggested fix is measured without touching
 * packages/ (see README, "Trying a fix").
 * Users, tokens and channels are created in-process through the public APIs (storage.accounts,
 * the token and chat services through `internalsOf`) because signing up thousands of users over HTTP costs scrypt time.
 */
dieOnError();
const dir = scratchDir('natter-');
let server;

async function createStorage(store, sqliteModule) {
  if (store === 'memory') return createMemoryStorage();
  const { createSqliteStorage } = await import(sqliteModule ?? '@natter/storage-sqlite');
  return createSqliteStorage({
    path: join(dir, 'natter.db'),
    synchronous: store === 'sqlite-normal' ? 'normal' : 'full',
    // For comparing batch spacings (decision 207); unset: the adapter's default.
    ...(process.env.NATTER_BENCH_COMMIT_INTERVAL_MS !== undefined
      ? { commitIntervalMs: Number(process.env.NATTER_BENCH_COMMIT_INTERVAL_MS) }
      : {}),
    // For comparing checkpoint intervals (decision 212); unset: the adapter's default.
    ...(process.env.NATTER_BENCH_CHECKPOINT_INTERVAL_MS !== undefined
      ? { checkpointIntervalMs: Number(process.env.NATTER_BENCH_CHECKPOINT_INTERVAL_MS) }
      : {}),
  });
}

async function setup({ plan, options }) {
  const storage = await createStorage(options.store, options.sqliteModule);
  server = createNatterServer({
    storage,
    tokens: { secret: 'bench-secret-bench-secret-bench-secret-0123', accessTtlSeconds: 3600 },
    logger: silentLogger(),
    limits: {
      // The per-connection token bucket protects real servers from floods; here it would only throttle the load.
      sendsPerSecond: 1_000_000,
      sendBurst: 1_000_000,
      // Idle connections never ping during a run; they must not be swept while the rest are still connecting.
      heartbeatTimeoutMs: 3_600_000,
    },
    // Every load connection comes from 127.0.0.1: the per-address caps against floods from one client
    // (200 sockets, 50 handshakes/s) would refuse all but the first 200 (HTTP 429).
    resourceLimits: {
      maxConnectionsPerAddress: 1_000_000,
      handshakesPerAddress: { perSecond: 1_000_000, burst: 1_000_000 },
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const { users, direct, groups } = await seedPlan(server, storage, plan);
  return { ports: [port], users, direct, groups };
}

serve({
  setup,
  stats: ({ collect }) => ({
    ...processStats({ collect }),
    connections: server ? [...internalsOf(server).hub.all()].length : 0,
  }),
});
