import path from 'node:path';
import { checkCrashSafety } from '@natter/storage-conformance';
import type pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { bundleAdapter, packageDir, removeBundle } from './bundle.js';
import { adminPool, dropSchema, PG_URL, pgSuitesRun, uniqueSchema } from './pg.js';

const run = await pgSuitesRun();
const childScript = path.join(packageDir, 'test/fixtures/crash-child.mjs');

describe.runIf(run)('crash safety', () => {
  let bundle: string;
  let admin: pg.Pool;
  const schema = uniqueSchema();

  beforeAll(async () => {
    admin = adminPool();
    bundle = await bundleAdapter('natter-pg-crash-test');
  });

  afterAll(async () => {
    await dropSchema(admin, schema);
    await admin.end();
    removeBundle(bundle);
  });

  it('keeps every acknowledged write and gap-free sequences after SIGKILL mid-stream', {
    timeout: 120_000,
  }, async () => {
    await checkCrashSafety({
      create: () => createPostgresStorage({ connectionString: PG_URL, schema }),
      child: (runId) => [childScript, bundle, PG_URL, schema, runId],
    });
  });
});
