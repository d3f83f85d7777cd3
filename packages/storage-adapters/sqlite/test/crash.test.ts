import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCrashSafety } from '@natter/storage-conformance';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFromSource } from '../../../../scripts/source-packages.js';
import { createSqliteStorage } from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const childScript = path.join(packageDir, 'test/fixtures/crash-child.mjs');
// Inside the package's node_modules so the bundle's bare imports (better-sqlite3) resolve.
const bundleDir = path.join(packageDir, 'node_modules/.cache/natter-crash-test');
const bundle = path.join(bundleDir, 'adapter.js');

/** Child processes cannot import TypeScript, so the adapter is bundled from source for them. */
async function bundleAdapter(): Promise<void> {
  await bundleFromSource({
    entry: path.join(packageDir, 'src/index.ts'),
    outDir: bundleDir,
    name: 'adapter',
  });
}

describe('crash safety', () => {
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-crash-'));
    await bundleAdapter();
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(bundleDir, { recursive: true, force: true });
    // Remove the cache directories too when nothing else lives there.
    for (const emptied of [path.dirname(bundleDir), path.join(packageDir, 'node_modules')]) {
      if (fs.existsSync(emptied) && fs.readdirSync(emptied).length === 0) fs.rmdirSync(emptied);
    }
  });

  it('keeps every acknowledged write and gap-free sequences after SIGKILL mid-stream', async () => {
    const file = path.join(dir, 'natter.db');
    await checkCrashSafety({
      create: () => createSqliteStorage({ path: file }),
      child: (runId) => [childScript, bundle, file, runId],
    });
    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
