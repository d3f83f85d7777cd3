import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { blobTestBytes } from '@natter/blob-conformance';
import { build } from 'tsup';
import { afterEach, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '../src/index.js';

const roots: string[] = [];
function tempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-blob-fs-'));
  roots.push(root);
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

/**
 * Child processes cannot import TypeScript, so the store is bundled from source for them (the port's
 * one file stands in for `@natter/server-core`: it is all the adapter imports from it).
 */
async function bundleStore(outDir: string): Promise<string> {
  const port = fileURLToPath(new URL('../../../server-core/src/ports/blob.ts', import.meta.url));
  await build({
    entry: { store: fileURLToPath(new URL('../src/index.ts', import.meta.url)) },
    outDir,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    config: false,
    dts: false,
    sourcemap: false,
    silent: true,
    esbuildPlugins: [
      {
        name: 'port-from-source',
        setup(b) {
          b.onResolve({ filter: /^@natter\/server-core$/ }, () => ({ path: port }));
        },
      },
    ],
  });
  return path.join(outDir, 'store.js');
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('the filesystem blob store', () => {
  it('stores a blob as one file named by its SHA-256 under two levels of fan-out directories', async () => {
    const root = tempRoot();
    const store = createFsBlobStore({ root });
    await store.open();
    const { key } = await store.put(blobTestBytes.chunksOf(new TextEncoder().encode('hello')));
    expect(key).toBe(createHash('sha256').update('hello').digest('hex'));
    expect(filesUnder(root)).toEqual([path.join(key.slice(0, 2), key.slice(2, 4), key)]);
    await store.close();
  });

  it('sweeps temp files that a crashed write left behind when it opens', async () => {
    const root = tempRoot();
    fs.mkdirSync(path.join(root, '.tmp'), { recursive: true });
    fs.writeFileSync(path.join(root, '.tmp', 'left-over.tmp'), 'half a photo');
    const store = createFsBlobStore({ root });
    await store.open();
    expect(filesUnder(root)).toEqual([]);
    await store.close();
  });

  it('leaves no temp file behind when the source fails', async () => {
    const root = tempRoot();
    const store = createFsBlobStore({ root });
    await store.open();
    const bytes = blobTestBytes.randomContent(500_000);
    await expect(store.put(blobTestBytes.failingSource(bytes, 200_000, new Error('gone')))).rejects.toThrow(
      'gone',
    );
    expect(filesUnder(root)).toEqual([]);
    await store.close();
  });

  it('shows nothing of a write killed half way, and sweeps its temp file on the next open', async () => {
    const root = tempRoot();
    const bundle = await bundleStore(tempRoot());
    // A child process streams into the store and is killed (SIGKILL) while its write is in progress.
    const script = `
      import { createFsBlobStore } from ${JSON.stringify(bundle)};
      const store = createFsBlobStore({ root: process.argv[1] });
      await store.open();
      async function* endless() { while (true) { yield new Uint8Array(64 * 1024).fill(7); await new Promise((r) => setTimeout(r, 1)); } }
      setTimeout(() => process.stdout.write('writing\\n'), 200);
      await store.put(endless());
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, root], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const temps = fs.readdirSync(path.join(root, '.tmp'));
    expect(temps.length).toBe(1);
    expect(fs.statSync(path.join(root, '.tmp', temps[0]!)).size).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const store = createFsBlobStore({ root });
    await store.open();
    expect(await blobTestBytes.listAll(store)).toEqual([]);
    expect(filesUnder(root)).toEqual([]);
    await store.close();
  });

  it('rejects work before open and after close with NATTER_BLOB_CLOSED', async () => {
    const store = createFsBlobStore({ root: tempRoot() });
    await expect(store.head('0'.repeat(64))).rejects.toMatchObject({ code: 'NATTER_BLOB_CLOSED' });
  });

  it('answers NATTER_BLOB_UNAVAILABLE when the root cannot be created', async () => {
    const file = path.join(tempRoot(), 'a-file');
    fs.writeFileSync(file, 'x');
    const store = createFsBlobStore({ root: path.join(file, 'media') });
    await expect(store.open()).rejects.toMatchObject({ code: 'NATTER_BLOB_UNAVAILABLE' });
  });
});
