import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_KILLABLE_URL, servicesUp } from '../cluster/helpers/env.js';
import { killableServer, lockKillableServer } from '../helpers/pg-server.js';

const up = await servicesUp('the kill -9 PostgreSQL server check', ['pgKillable']);

describe.runIf(up)('the PostgreSQL server reserved for kill -9 (NATTER_PG_KILLABLE_URL)', () => {
  const table = `killable_check_${process.pid}_${Date.now().toString(36)}`;
  let release: (() => Promise<void>) | undefined;
  afterAll(async () => {
    if (!release) return;
    try {
      await (await killableServer(PG_KILLABLE_URL)).ensureUp();
      const client = new pg.Client({ connectionString: PG_KILLABLE_URL });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.end();
    } finally {
      await release();
    }
  }, 90_000);

  it('dies on kill -9, refuses connections while down, and comes back with every committed row', async () => {
    release = await lockKillableServer();
    const server = await killableServer(PG_KILLABLE_URL);
    expect(server.name).toBe('killable');
    const client = new pg.Client({ connectionString: PG_KILLABLE_URL });
    client.on('error', () => undefined);
    await client.connect();
    await client.query(`CREATE TABLE ${table} (n int PRIMARY KEY)`);
    await client.query(`INSERT INTO ${table} SELECT generate_series(1, 1000)`);

    await server.kill9();
    // The open connection is gone, and a new one is refused.
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await client.end().catch(() => undefined);
    const refused = new pg.Client({ connectionString: PG_KILLABLE_URL, connectionTimeoutMillis: 2_000 });
    refused.on('error', () => undefined);
    await expect(refused.connect()).rejects.toThrow();

    await server.start();
    const again = new pg.Client({ connectionString: PG_KILLABLE_URL });
    await again.connect();
    try {
      const { rows } = await again.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      expect(rows[0]!.n).toBe(1000);
    } finally {
      await again.end();
    }
  }, 90_000);
});
