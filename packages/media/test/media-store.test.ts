import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { createSqliteMediaStore } from '../src/index.js';
import { createPostgresMediaStore } from '../src/postgres.js';
import { mediaStoreContract } from './helpers/media-store-contract.js';

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
