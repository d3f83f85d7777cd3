import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import type { StorageAdapter } from '@natter/server-core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { bundleAdapter, packageDir, removeBundle } from './bundle.js';
import { adminPool, dropSchema, PG_URL, pgSuitesRun, uniqueSchema } from './pg.js';

const run = await pgSuitesRun();
const childScript = path.join(packageDir, 'test/fixtures/writer-child.mjs');

const USERS = Array.from({ length: 6 }, (_, i) => `u_${i}`);
/** Ten shared channels, three overlapping members each. */
const CHANNELS = Array.from({ length: 10 }, (_, i) => ({
  id: `c_${i}`,
  members: [...new Set([USERS[i % 6]!, USERS[(i + 1) % 6]!, USERS[(i + 3) % 6]!])].sort(),
}));
const PER_WRITER = Number(process.env.PER_WRITER ?? 200);

/** What a writer printed for one acknowledged append. */
interface Ack {
  id: string;
  channelId: string;
  seq: number;
  positions: Array<{ userId: string; pos: number }>;
}

/** A child writer process and what it reported. */
class Writer {
  readonly acks: Ack[] = [];
  readonly ready: Promise<string>;
  readonly exited: Promise<number | null>;
  private stderr = '';

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly name: string,
  ) {
    let buffered = '';
    let onReady!: (epoch: string) => void;
    let onEarlyExit!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onEarlyExit = reject;
    });
    child.stderr.on('data', (chunk) => {
      this.stderr += chunk;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const space = line.indexOf(' ');
        const word = space === -1 ? line : line.slice(0, space);
        if (word === 'ready') onReady(line.slice(space + 1));
        if (word === 'ack') this.acks.push(JSON.parse(line.slice(space + 1)) as Ack);
      }
    });
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        onEarlyExit(new Error(`${name} exited (${code}) before it was ready: ${this.stderr}`));
        resolve(code);
      }),
    );
  }

  get errors(): string {
    return this.stderr;
  }
}

/** Appends like a child does, from this process, six writes at once: whole sends or plain appends. */
async function appendFromParent(
  adapter: StorageAdapter,
  writer: string,
  offset: number,
  mode: 'send' | 'append',
): Promise<Ack[]> {
  const acks: Ack[] = [];
  let next = 0;
  const worker = async () => {
    while (next < PER_WRITER) {
      const n = next++;
      const channel = CHANNELS[(n * 7 + offset) % CHANNELS.length]!;
      const id = `${writer}-${String(n).padStart(4, '0')}`;
      const send = {
        id,
        channelId: channel.id,
        senderId: channel.members[n % channel.members.length]!,
        clientMsgId: `cm-${id}`,
        text: `message ${id}`,
        mentions: [],
        createdAt: Date.now(),
      };
      const { message, positions } = await adapter.chat.write(
        async (tx) => {
          if (mode === 'append') {
            return tx.appendMessage({ ...send, kind: 'text', system: null }, channel.members);
          }
          const result = await tx.appendChecked!(send);
          if (result.kind !== 'appended') throw new Error(`send ${id}: ${result.kind}`);
          return result.appended;
        },
        { channelId: channel.id },
      );
      acks.push({ id, channelId: message.channelId, seq: message.seq, positions });
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return acks;
}

describe.runIf(run)('several processes writing one store', () => {
  let bundle: string;
  let admin: pg.Pool;
  const schema = uniqueSchema();

  beforeAll(async () => {
    admin = adminPool();
    bundle = await bundleAdapter('natter-pg-multiprocess-test');
  });

  afterAll(async () => {
    await dropSchema(admin, schema);
    await admin.end();
    removeBundle(bundle);
  });

  it('keeps every channel at seq 1..n and every user at pos 1..m with 3 child processes and 2 pools in the parent appending and sending at once', {
    timeout: 180_000,
  }, async () => {
    // The children open the new schema at the same time as the parent: the migrations race.
    const writers = Array.from({ length: 3 }, (_, i) => {
      const config = {
        url: PG_URL,
        schema,
        writer: `p${i}`,
        count: PER_WRITER,
        channels: CHANNELS,
        offset: i,
        // Whole sends (grouped into send_checked calls) from two processes, plain appends from one.
        mode: i === 1 ? 'append' : 'send',
      };
      const child = spawn(process.execPath, [childScript, bundle, JSON.stringify(config)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      return new Writer(child, `p${i}`);
    });
    const parents = [0, 1].map(() =>
      createPostgresStorage({ connectionString: PG_URL, schema, maxPoolSize: 4 }),
    );
    try {
      await Promise.all(parents.map((p) => p.open()));
      const epochs = await Promise.all(writers.map((w) => w.ready));
      expect(new Set([...epochs, ...parents.map((p) => p.chat.epoch())]).size).toBe(1);

      const [main, second] = parents as [StorageAdapter, StorageAdapter];
      await main.chat.write(async (tx) => {
        for (const { id, members } of CHANNELS) {
          await tx.insertChannel({
            id,
            kind: 'group',
            name: id,
            createdBy: 'u_0',
            createdAt: 1,
            directKey: null,
          });
          for (const userId of members) {
            await tx.upsertMember({
              channelId: id,
              userId,
              role: 'member',
              joinedAt: 1,
              joinedSeq: 1,
              readSeq: 0,
              deliveredSeq: 0,
            });
          }
        }
      });

      // Ending stdin is the signal (and lets the child exit when it is done).
      for (const w of writers) w.child.stdin.end('go\n');
      const fromParents = await Promise.all([
        appendFromParent(main, 'main', 3, 'append'),
        appendFromParent(second, 'second', 4, 'send'),
      ]);
      const codes = await Promise.all(writers.map((w) => w.exited));
      for (const [i, w] of writers.entries()) expect(codes[i], `${w.name} exit: ${w.errors}`).toBe(0);

      const acks = [...fromParents.flat(), ...writers.flatMap((w) => w.acks)];
      expect(acks).toHaveLength(5 * PER_WRITER);

      // Channels: exactly the acknowledged messages, at seq 1..n.
      for (const { id } of CHANNELS) {
        const mine = acks.filter((a) => a.channelId === id);
        const n = mine.length;
        expect((await main.chat.getChannel(id))?.lastSeq, `lastSeq of ${id}`).toBe(n);
        const page = await main.chat.readHistory(id, { after: 0, limit: n + 10, minSeq: 0 });
        expect(
          page.messages.map((m) => m.seq),
          `seqs of ${id}`,
        ).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        const idAt = new Map(page.messages.map((m) => [m.seq, m.id]));
        for (const ack of mine) expect(idAt.get(ack.seq), `acked ${ack.id}`).toBe(ack.id);
      }

      // Users: exactly one entry per acknowledged message sent to them, at pos 1..m, in commit order.
      for (const userId of USERS) {
        const mine = acks.filter((a) => a.positions.some((p) => p.userId === userId));
        const m = mine.length;
        expect(await main.chat.syncHead(userId), `head of ${userId}`).toBe(m);
        // Only sends run here: any other entry kind would leave a hole in the positions checked below.
        const log = (await main.chat.readSync(userId, 0, m + 10)).flatMap((e) =>
          e.kind === 'message' ? [e] : [],
        );
        expect(
          log.map((e) => e.pos),
          `positions of ${userId}`,
        ).toEqual(Array.from({ length: m }, (_, i) => i + 1));
        const idAtPos = new Map(log.map((e) => [e.pos, e.message.id]));
        for (const ack of mine) {
          const { pos } = ack.positions.find((p) => p.userId === userId)!;
          expect(idAtPos.get(pos), `pos ${pos} of ${userId}`).toBe(ack.id);
        }
        const lastSeq = new Map<string, number>();
        for (const { message } of log) {
          expect(message.seq, `order of ${message.channelId} in ${userId}'s log`).toBeGreaterThan(
            lastSeq.get(message.channelId) ?? 0,
          );
          lastSeq.set(message.channelId, message.seq);
        }
      }
    } finally {
      for (const w of writers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      for (const p of parents) await p.close();
    }
  });
});
