import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCrashSafety } from '@natter/storage-conformance';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { bundleFromSource } from '../../../../scripts/source-packages.js';
import { createLevelStorage } from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const childScript = path.join(packageDir, 'test/fixtures/crash-child.mjs');
// Inside the package's node_modules so the bundle's bare imports (level) resolve.
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
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-level-crash-'));
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
    const file = path.join(dir, 'store');
    await checkCrashSafety({
      create: () => createLevelStorage({ path: file }),
      child: (runId) => [childScript, bundle, file, runId],
    });
  });
});
