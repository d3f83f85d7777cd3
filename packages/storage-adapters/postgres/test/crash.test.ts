import { spawn } from 'node:child_process';
import path from 'node:path';
import type { StorageAdapter } from '@natter/server-core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { bundleAdapter, packageDir, removeBundle } from './bundle.js';
import { adminPool, dropSchema, PG_URL, pgSuitesRun, uniqueSchema } from './pg.js';

const run = await pgSuitesRun();
const childScript = path.join(packageDir, 'test/fixtures/crash-child.mjs');

interface Ack {
  seq: number;
  id: string;
}

/** Runs the child until it has acknowledged `killAfter` writes, then SIGKILLs it. */
async function runAndKill(bundle: string, schema: string, runId: string, killAfter: number): Promise<Ack[]> {
  const child = spawn(process.execPath, [childScript, bundle, PG_URL, schema, runId], {
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
  const exit = await new Promise<{ signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (_code, signal) => resolve({ signal })),
  );
  expect(exit.signal, `child ended by itself: ${stderr}`).toBe('SIGKILL');
  return acks;
}

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
    const create = () => createPostgresStorage({ connectionString: PG_URL, schema });
    let storage: StorageAdapter = create();
    await storage.open();
    await storage.chat.write((tx) =>
      tx.insertChannel({
        id: 'c1',
        kind: 'group',
        name: 'c',
        createdBy: 'u_a',
        createdAt: 1,
        directKey: null,
      }),
    );
    await storage.close();

    const acked: Ack[] = [];
    for (const [round, killAfter] of [150, 40, 300].entries()) {
      const acks = await runAndKill(bundle, schema, `r${round}`, killAfter);
      expect(acks.length).toBeGreaterThanOrEqual(killAfter);
      acked.push(...acks);

      storage = create();
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
