import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The database the tests use: `NATTER_PG_URL`, or a local PostgreSQL with trust auth. */
export const PG_URL = process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when a connection to {@link PG_URL} succeeds within two seconds. */
async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
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
 * Whether the PostgreSQL suites run. Outside CI an unreachable database skips them with a loud
 * warning; with `CI=true` they always run (and fail when the database is down), never skip.
 */
export async function pgSuitesRun(): Promise<boolean> {
  if (process.env.CI === 'true' || (await reachable())) return true;
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `!! PostgreSQL is unreachable at ${PG_URL}: the @natter/storage-postgres tests are SKIPPED.`,
      '!! Set NATTER_PG_URL to a reachable database (a user allowed to create schemas) to run them.',
      '!! With CI=true they run and fail instead of skipping.',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
  return false;
}

/** A fresh schema name for one store of one test. */
export function uniqueSchema(): string {
  return `natter_test_${randomBytes(6).toString('hex')}`;
}

/** A small pool for the tests' own SQL (dropping schemas, inspecting tables). */
export function adminPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  pool.on('error', () => undefined);
  return pool;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
