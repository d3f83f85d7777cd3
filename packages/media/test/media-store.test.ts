import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteMediaStore } from '../src/index.js';
import { createPostgresMediaStore } from '../src/postgres.js';
import { mediaStoreContract, record } from './helpers/media-store-contract.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-media-store-'));
let n = 0;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

mediaStoreContract('sqlite', async () =>
  createSqliteMediaStore({ path: path.join(dir, `media-${++n}.sqlite`) }),
);

const connectionString = process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
mediaStoreContract('postgres', async () => {
  const schema = `natter_media_test_${process.pid}_${++n}`;
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  return createPostgresMediaStore({ connectionString, schema });
});

describe('quota across nodes and migrations', () => {
  it("two PostgreSQL media stores (two nodes) never pass one user's quota together", async () => {
    const schema = `natter_media_test_${process.pid}_quota`;
    const admin = new pg.Client({ connectionString });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    const nodes = [
      createPostgresMediaStore({ connectionString, schema }),
      createPostgresMediaStore({ connectionString, schema }),
    ];
    for (const node of nodes) await node.open();
    try {
      const attempts = Array.from({ length: 16 }, (_, i) =>
        nodes[i % 2]!.insertWithinQuota(record('u_nodes', { size: 1_000 }), 6_500),
      );
      const reservations = Array.from({ length: 8 }, (_, i) =>
        nodes[i % 2]!.reserve(
          { id: `rn${i}`, ownerId: 'u_held', bytes: 1_000, expiresAt: 10_000 },
          3_000,
          1_000,
        ),
      );
      expect((await Promise.all(attempts)).filter(Boolean)).toHaveLength(6);
      expect((await Promise.all(reservations)).filter(Boolean)).toHaveLength(3);
      expect(await nodes[0]!.usage('u_nodes')).toBe(6_000);
    } finally {
      for (const node of nodes) await node.close();
    }
  });

  it('SQLite: a schema 1 store gains the reservations table when opened', async () => {
    const file = path.join(dir, 'media-v1.sqlite');
    const store = createSqliteMediaStore({ path: file });
    await store.open();
    await store.close();
    // Back to what schema 1 had.
    const db = new Database(file);
    db.exec('DROP TABLE media_reservations');
    db.pragma('user_version = 1');
    db.close();
    const reopened = createSqliteMediaStore({ path: file });
    await reopened.open();
    try {
      expect(
        await reopened.reserve({ id: 'r', ownerId: 'u', bytes: 10, expiresAt: 10_000 }, 100, 1_000),
      ).toBe(true);
    } finally {
      await reopened.close();
    }
  });
});
