import { acquireServiceLock } from '@natter/broker-conformance';
import { afterAll } from 'vitest';
import { killAllChildNodes, removeNodeBundle } from './child-nodes.js';
import { PG_URL, reachable } from './env.js';
import { createTestStore, type TestStore } from './storage.js';

export const BROKERS = ['redis', 'nats'] as const;

/**
 * Common setup of a cluster test file: takes the machine-wide "redis" lock (one test file restarts Redis;
 * the cluster files also run one at a time, which suits a 2-core machine), creates the shared store
 * (PostgreSQL when @natter/storage-postgres and the server are there, else SQLite), and in afterAll
 * kills every child node and releases both. Call at the top level with `await`.
 */
export async function clusterSuite(label: string): Promise<TestStore> {
  const release = await acquireServiceLock('redis');
  let store: TestStore | undefined;
  afterAll(async () => {
    await killAllChildNodes();
    await removeNodeBundle();
    await store?.cleanup().catch(() => undefined);
    await release();
  }, 30_000);
  store = await createTestStore(label, PG_URL, await reachable(PG_URL));
  console.info(
    `[${label}] shared store: ${store.spec.kind}${store.spec.kind === 'sqlite' ? ' (@natter/storage-postgres not available: SQLite file fallback)' : ''}`,
  );
  return store;
}
