import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import { createMemoryStorage } from '@natter/storage-memory';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresMediaStore } from '../src/postgres.js';
import { pdf } from './fixtures.js';
import { startMediaServer, type TestUser } from './helpers/media-server.js';

const MIB = 1024 * 1024;
const QUOTA = 3.5 * MIB;
const connectionString = process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `natter_media_quota_${process.pid}`;

/**
 * Two nodes of one cluster: one chat storage, one PostgreSQL media store, one blob directory, each node
 * its own server process state (its own in-process lock, which alone could not keep a quota).
 */
let nodes: Array<Awaited<ReturnType<typeof startMediaServer>>>;
let blobDir: string;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-quota-blobs-'));
  const storage = createMemoryStorage();
  const node = () =>
    startMediaServer(
      {
        blobs: createFsBlobStore({ root: blobDir, fsync: false }),
        store: createPostgresMediaStore({ connectionString, schema }),
        quotaBytes: QUOTA,
      },
      { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'natter-quota-node-')), storage },
    );
  nodes = [await node(), await node()];
});

afterAll(async () => {
  for (const node of nodes ?? []) await node.close();
  fs.rmSync(blobDir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

const file = (bytes: number) => Buffer.concat([pdf(), randomBytes(bytes - pdf().byteLength)]);

describe('per-user media quota under concurrency', () => {
  it('uploads running at once on two nodes never pass the quota; refused ones give their reservation back', async () => {
    const ada = await nodes[0]!.signup('ada_quota');
    const uploads = Array.from({ length: 8 }, (_, i) =>
      nodes[i % 2]!.upload(ada, file(MIB), 'application/pdf', `f${i}.pdf`),
    );
    const answers = await Promise.all(uploads);
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    for (const answer of answers.filter((a) => a.status !== 201)) {
      expect(answer.status).toBe(413);
      expect(await answer.json()).toMatchObject({ error: { code: 'NATTER_MEDIA_QUOTA_EXCEEDED' } });
    }
    expect(await usageOf(ada)).toBe(3 * MIB);
    // The refused uploads' reservations are gone: what is left of the quota is usable at once.
    const rest = await nodes[1]!.upload(ada, file(MIB / 2), 'application/pdf', 'rest.pdf');
    expect(rest.status).toBe(201);
    expect(await usageOf(ada)).toBe(3.5 * MIB);
    const over = await nodes[0]!.upload(ada, file(1024), 'application/pdf', 'over.pdf');
    expect(over.status).toBe(413);
  });

  it('refuses a tus upload whose declared length does not fit before any byte is stored', async () => {
    const bea = await nodes[0]!.signup('bea_quota');
    expect((await nodes[1]!.upload(bea, file(3 * MIB), 'application/pdf', 'big.pdf')).status).toBe(201);
    const create = await fetch(`${nodes[0]!.url}/v1/media/uploads`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(MIB),
        Authorization: `Bearer ${bea.token}`,
      },
    });
    expect(create.status).toBe(413);
    expect(await create.json()).toMatchObject({ error: { code: 'NATTER_MEDIA_QUOTA_EXCEEDED' } });
    const fits = await fetch(`${nodes[1]!.url}/v1/media/uploads`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(MIB / 4),
        Authorization: `Bearer ${bea.token}`,
      },
    });
    expect(fits.status).toBe(201);
    // The open tus upload holds its length: a plain upload that would need it is refused at once.
    expect((await nodes[0]!.upload(bea, file(MIB / 2), 'application/pdf', 'more.pdf')).status).toBe(413);
  });
});

async function usageOf(user: TestUser): Promise<number> {
  return nodes[0]!.store.usage(user.id);
}
