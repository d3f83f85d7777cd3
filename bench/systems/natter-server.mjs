import { join } from 'node:path';
import { newId } from '@natter/protocol';
import { createNatterServer, silentLogger } from '@natter/server-core';
import { internalsOf } from '@natter/server-core/internals';
import { createMemoryStorage } from '@natter/storage-memory';
import { dieOnError, processStats, scratchDir, serve } from '../lib/ipc.mjs';
import { inBatches, range, stampedText } from './setup-plan.mjs';

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
  const createdAt = Date.now();
  const ids = range(plan.users).map(() => `u_${newId()}`);
  // Concurrent calls share group-commit batches; one at a time would be one fsync per user.
  await inBatches(ids, 512, (id, i) =>
    storage.accounts.createUser({
      id,
      username: `bench${i}_${id.slice(-6).toLowerCase()}`,
      displayName: `bench ${i}`,
      passwordHash: null,
      createdAt,
    }),
  );
  const users = await inBatches(ids, 512, async (id, i) => {
    const deviceId = `dev${i}`;
    const { accessToken } = await internalsOf(server).tokens.issue(id, deviceId);
    return { id, token: accessToken, deviceId };
  });
  const direct = await inBatches(range(plan.directPairs ?? 0), 128, async (i) => {
    const channel = await internalsOf(server).service.openDirect(ids[2 * i], ids[2 * i + 1]);
    return channel.id;
  });
  const groups = [];
  if (plan.group) {
    const members = ids.slice(0, plan.group);
    groups.push(
      (await internalsOf(server).service.createGroup(members[0], 'bench group', members.slice(1))).id,
    );
  }
  // The catch-up backlog: user 1 wrote to user 0 while user 0 was away.
  await inBatches(range(plan.preload?.messages ?? 0), 256, (i) =>
    internalsOf(server).service.sendMessage(ids[1], {
      channelId: direct[0],
      clientMsgId: `pre${i}`,
      text: stampedText(0),
    }),
  );
  return { ports: [port], users, direct, groups };
}

serve({
  setup,
  stats: ({ collect }) => ({
    ...processStats({ collect }),
    connections: server ? [...internalsOf(server).hub.all()].length : 0,
  }),
});
