import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorageAdapter } from '@natter/server-core';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLevelStorage } from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(packageDir, '../../..');
const childScript = path.join(packageDir, 'test/fixtures/crash-child.mjs');
// Inside the package's node_modules so the bundle's bare imports (level) resolve.
const bundleDir = path.join(packageDir, 'node_modules/.cache/natter-crash-test');
const bundle = path.join(bundleDir, 'adapter.js');

/** Child processes cannot import TypeScript, so the adapter is bundled from source for them. */
async function bundleAdapter(): Promise<void> {
  const sources: Record<string, string> = {
    '@natter/protocol': path.join(repoRoot, 'packages/protocol/src/index.ts'),
    '@natter/server-core': path.join(repoRoot, 'packages/server-core/src/index.ts'),
  };
  await build({
    entry: { adapter: path.join(packageDir, 'src/index.ts') },
    outDir: bundleDir,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    config: false,
    dts: false,
    sourcemap: false,
    silent: true,
    esbuildPlugins: [
      {
        name: 'natter-from-source',
        setup(b) {
          // Sibling packages from source (their dist may be missing or stale); everything else external.
          b.onResolve({ filter: /^@natter\// }, (args) => ({ path: sources[args.path] ?? args.path }));
          b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
        },
      },
    ],
  });
}

interface Ack {
  seq: number;
  id: string;
}

/** Runs the child until it has acknowledged `killAfter` writes, then SIGKILLs it. */
async function runAndKill(file: string, runId: string, killAfter: number): Promise<Ack[]> {
  const child = spawn(process.execPath, [childScript, bundle, file, runId], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: Ack[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const [word, seq, id] = line.split(' ');
      if (word === 'ack') acks.push({ seq: Number(seq), id: id! });
    }
    if (acks.length >= killAfter) child.kill('SIGKILL');
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  expect(exit.signal, `child ended by itself: ${stderr}`).toBe('SIGKILL');
  return acks;
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
    let storage: StorageAdapter = createLevelStorage({ path: file });
    await storage.open();
    await storage.chat.write(async (tx) => {
      await tx.insertChannel({
        id: 'c1',
        kind: 'group',
        name: 'c',
        createdBy: 'u_a',
        createdAt: 1,
        directKey: null,
      });
    });
    await storage.close();

    const acked: Ack[] = [];
    for (const [round, killAfter] of [150, 40, 300].entries()) {
      const acks = await runAndKill(file, `r${round}`, killAfter);
      expect(acks.length).toBeGreaterThanOrEqual(killAfter);
      acked.push(...acks);

      storage = createLevelStorage({ path: file });
      await storage.open();
      const n = (await storage.chat.getChannel('c1'))!.lastSeq;
      expect(n).toBeGreaterThanOrEqual(Math.max(...acked.map((a) => a.seq)));

      const page = await storage.chat.readHistory('c1', { after: 0, limit: n + 10, minSeq: 0 });
      expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      const idAt = new Map(page.messages.map((m) => [m.seq, m.id]));
      for (const ack of acked) expect(idAt.get(ack.seq), `acked ${ack.id}`).toBe(ack.id);

      for (const userId of ['u_a', 'u_b']) {
        expect(await storage.chat.syncHead(userId)).toBe(n);
        const log = await storage.chat.readSync(userId, 0, n + 10);
        expect(log.map((e) => [e.pos, e.message.seq])).toEqual(page.messages.map((m) => [m.seq, m.seq]));
      }
      const last = acked.at(-1)!;
      const byKey = await storage.chat.write((tx) => tx.findByClientMsgId('u_a', `cm-${last.id}`));
      expect(byKey?.message.seq).toBe(last.seq);
      await storage.close();
    }
  });
});
