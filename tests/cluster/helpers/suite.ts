import { acquireServiceLock } from '@natter/broker-conformance';
import { afterAll } from 'vitest';
import { killAllChildNodes, removeNodeBundle } from './child-nodes.js';
import { PG_URL, reachable } from './env.js';
import { createShardedTestStore, createTestStore, loadShardedFactory, type TestStore } from './storage.js';

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

/**
 * The sharded store (`@natter/storage-postgres-sharded`) on `urls`, a schema of this file's own on each,
 * dropped in afterAll. Answers undefined (the caller skips, loudly) when the package is missing, except
 * with `CI=true`, where that is an error. Takes no lock: see {@link shardedClusterSuite}.
 */
export async function shardedStore(label: string, urls: readonly string[]): Promise<TestStore | undefined> {
  if (!(await loadShardedFactory())) {
    if (process.env.CI === 'true') throw new Error('@natter/storage-postgres-sharded is not available');
    console.warn(`\n!!! SKIPPING ${label}: @natter/storage-postgres-sharded is not available.\n`);
    return undefined;
  }
  const store = await createShardedTestStore(label, urls);
  afterAll(() => store.cleanup(), 30_000);
  console.info(`[${label}] shared store: sharded over ${urls.length} PostgreSQL servers`);
  return store;
}

/** {@link clusterSuite}'s lock and child-node cleanup, over the sharded store on `urls`. */
export async function shardedClusterSuite(
  label: string,
  urls: readonly string[],
): Promise<TestStore | undefined> {
  const release = await acquireServiceLock('redis');
  afterAll(async () => {
    await killAllChildNodes();
    await removeNodeBundle();
    await release();
  }, 30_000);
  return shardedStore(label, urls);
}
