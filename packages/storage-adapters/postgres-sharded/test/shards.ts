import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The three PostgreSQL servers of the sharded tests: `NATTER_PG_SHARD_URLS` (comma-separated). */
export const SHARD_URLS = (
  process.env.NATTER_PG_SHARD_URLS ??
  [5433, 5434, 5435].map((port) => `postgres://postgres@127.0.0.1:${port}/test`).join(',')
)
  .split(',')
  .map((url) => url.trim())
  .filter((url) => url.length > 0);

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether the sharded suites run. Outside CI unreachable servers skip them with a loud warning naming
 * `NATTER_PG_SHARD_URLS`; with `CI=true` they always run (and fail when a server is down).
 */
export async function shardSuitesRun(): Promise<boolean> {
  if (process.env.CI === 'true') return true;
  const down = (
    await Promise.all(SHARD_URLS.map(async (url) => ((await reachable(url)) ? [] : [url])))
  ).flat();
  if (down.length === 0) return true;
  console.warn(
    `\n!!! SKIPPING the @natter/storage-postgres-sharded tests: ${down.join(', ')} unreachable. ` +
      'Run `bash .ci/services.sh` or set NATTER_PG_SHARD_URLS (comma-separated URLs); with CI=true they never skip.\n',
  );
  return false;
}

/** A fresh schema name for one store of one test (the same on every server). */
export function uniqueSchema(): string {
  return `natter_shard_${randomBytes(6).toString('hex')}`;
}

/** Drops a test schema on every server. */
export async function dropSchemas(schema: string): Promise<void> {
  await Promise.all(
    SHARD_URLS.map(async (url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    }),
  );
}
