import { spawn } from 'node:child_process';
import type { StorageAdapter } from '@natter/server-core';
import { expect } from 'vitest';
import { readMessageLog } from './fixtures.js';

/** A write the crashing child reported as acknowledged: its line `ack <seq> <id>`. */
export interface CrashAck {
  seq: number;
  id: string;
}

/**
 * Runs `node ...args` until it has printed `killAfter` acks (`ack <seq> <id>` lines on stdout), then
 * kills it with SIGKILL. Fails the test if the child ends by itself. Resolves with every ack it printed.
 */
export async function runUntilKilled(args: readonly string[], killAfter: number): Promise<CrashAck[]> {
  const child = spawn(process.execPath, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: CrashAck[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [word, seq, id] = line.split(' ');
      if (word === 'ack' && id !== undefined) acks.push({ seq: Number(seq), id });
    }
    if (acks.length >= killAfter) child.kill('SIGKILL');
  });
  const exit = await new Promise<{ signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (_code, signal) => resolve({ signal })),
  );
  expect(exit.signal, `child ended by itself: ${stderr}`).toBe('SIGKILL');
  return acks;
}

/** Options of {@link checkCrashSafety}. */
export interface CrashSafetyOptions {
  /** A new, not yet opened adapter on the store the child writes to. */
  create: () => StorageAdapter;
  /**
   * Node arguments of the child for one run (script first). The child opens the same store and appends to
   * channel `c1` as fast as it can, several writes in flight, each message with id `<runId>-<n>`, sender
   * `u_a`, clientMsgId `cm-<id>` and recipients `u_a` and `u_b`, printing `ack <seq> <id>` once a write
   * resolved.
   */
  child: (runId: string) => readonly string[];
  /** Acks to wait for before each SIGKILL, one run each. @default [150, 40, 300] */
  killAfter?: readonly number[];
}

/**
 * Crash safety: creates channel `c1`, then kills the child mid-stream several times and after each kill
 * reopens the store and checks that sequences are contiguous, every acknowledged message is present at
 * its acknowledged seq, both users' sync logs match the channel without gaps, and the last acknowledged
 * clientMsgId is still known (idempotency survives the crash).
 */
export async function checkCrashSafety(options: CrashSafetyOptions): Promise<void> {
  let storage = options.create();
  await storage.open();
  await storage.chat.write((tx) =>
    tx.insertChannel({ id: 'c1', kind: 'group', name: 'c', createdBy: 'u_a', createdAt: 1, directKey: null }),
  );
  await storage.close();

  const acked: CrashAck[] = [];
  for (const [round, killAfter] of (options.killAfter ?? [150, 40, 300]).entries()) {
    const acks = await runUntilKilled(options.child(`r${round}`), killAfter);
    expect(acks.length).toBeGreaterThanOrEqual(killAfter);
    acked.push(...acks);

    storage = options.create();
    await storage.open();
    const n = (await storage.chat.getChannel('c1'))!.lastSeq;
    expect(n).toBeGreaterThanOrEqual(Math.max(...acked.map((a) => a.seq)));

    const page = await storage.chat.readHistory('c1', { after: 0, limit: n + 10, minSeq: 0 });
    expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const idAt = new Map(page.messages.map((m) => [m.seq, m.id]));
    for (const ack of acked) expect(idAt.get(ack.seq), `acked ${ack.id}`).toBe(ack.id);

    for (const userId of ['u_a', 'u_b']) {
      expect(await storage.chat.syncHead(userId)).toBe(n);
      const log = await readMessageLog(storage, userId, 0, n + 10);
      expect(log.map((e) => [e.pos, e.message.seq])).toEqual(page.messages.map((m) => [m.seq, m.seq]));
    }
    const last = acked.at(-1)!;
    const byKey = await storage.chat.write((tx) => tx.findByClientMsgId('u_a', `cm-${last.id}`));
    expect(byKey?.message.seq).toBe(last.seq);
    await storage.close();
  }
}
