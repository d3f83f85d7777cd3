import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PG_SHARD_URLS, PG_URL, servicesUp } from '../cluster/helpers/env.js';

const up = await servicesUp('the PostgreSQL shard servers check', ['pg', 'pgShards']);

/** Runs `fn` on a fresh connection to `url`. */
async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const IDENTITY = `SELECT (SELECT system_identifier FROM pg_control_system())::text AS id,
                         current_database() AS db, pg_is_in_recovery() AS standby`;

/** Who answers at `url`. */
const identify = (url: string) =>
  withClient(
    url,
    async (c) => (await c.query<{ id: string; db: string; standby: boolean }>(IDENTITY)).rows[0]!,
  );

describe.runIf(up)('PostgreSQL shard servers (NATTER_PG_SHARD_URLS)', () => {
  it('has three servers that answer, each a separate cluster with its own database, and writable', async () => {
    expect(PG_SHARD_URLS).toHaveLength(3);
    const shards = await Promise.all(PG_SHARD_URLS.map(identify));
    const main = await identify(PG_URL);
    // Separate clusters: four distinct system identifiers (not three databases on one server).
    expect(new Set([main.id, ...shards.map((s) => s.id)]).size).toBe(4);
    for (const shard of shards) expect(shard).toMatchObject({ db: 'test', standby: false });
    for (const url of PG_SHARD_URLS) {
      const count = await withClient(url, async (c) => {
        await c.query('CREATE TEMP TABLE shard_check (x int)');
        await c.query('INSERT INTO shard_check VALUES (1), (2)');
        return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM shard_check')).rows[0]!.n;
      });
      expect(count, url).toBe(2);
    }
  });
});
