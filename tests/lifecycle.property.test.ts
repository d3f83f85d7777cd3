import { randomBytes } from 'node:crypto';
import { MemoryStore } from '@natter/client';
import { ChatCache } from '@natter/client/internals';
import { DEFAULT_LIMITS, type Message } from '@natter/protocol';
import type { StorageAdapter } from '@natter/server-core';
import { ChatService } from '@natter/server-core/internals';
import { createMemoryStorage } from '@natter/storage-memory';
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadPostgresFactory } from './cluster/helpers/storage.js';

const USERS = ['u_a', 'u_b', 'u_c'];
const EMOJIS = ['👍', '🎉', '🔥'];

/** One step of a run: a user acts on one of the group's messages, or one of their devices goes on or off line. */
type Step =
  | { t: 'send'; user: number; thread: boolean; reply: boolean; target: number }
  | { t: 'edit' | 'delete'; user: number; target: number }
  | { t: 'react'; user: number; target: number; emoji: number; add: boolean }
  | { t: 'toggle'; device: number }
  | { t: 'retry'; index: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    t: fc.constant('send' as const),
    user: fc.nat(2),
    thread: fc.boolean(),
    reply: fc.boolean(),
    target: fc.nat(30),
  }),
  fc.record({ t: fc.constantFrom('edit' as const, 'delete' as const), user: fc.nat(2), target: fc.nat(30) }),
  fc.record({
    t: fc.constant('react' as const),
    user: fc.nat(2),
    target: fc.nat(30),
    emoji: fc.nat(2),
    add: fc.boolean(),
  }),
  fc.record({ t: fc.constant('toggle' as const), device: fc.nat(5) }),
  fc.record({ t: fc.constant('retry' as const), index: fc.nat(60) }),
);

/** A device: its own SDK cache over its own store, syncing from its cursor when online. */
interface Device {
  userId: string;
  cache: ChatCache;
  pos: number;
  online: boolean;
  applied: number[];
}

/** What a device shows of a message; the fields every view must agree on. */
function view(m: Message) {
  return {
    seq: m.seq,
    text: m.text,
    deleted: m.deletedAt !== undefined,
    version: m.version ?? 1,
    reactions: (m.reactions ?? []).map((r) => `${r.emoji}:${r.count}:${r.me}`).sort(),
    threadReplies: m.threadReplies ?? 0,
  };
}

/** A fresh store for one run, and how to dispose of it. */
type StoreMaker = () => Promise<{ storage: StorageAdapter; dispose: () => Promise<void> }>;

const memoryStore: StoreMaker = async () => {
  const storage = createMemoryStorage();
  return { storage, dispose: () => storage.close() };
};

async function run(steps: Step[], makeStore: StoreMaker = memoryStore): Promise<void> {
  const { storage, dispose } = await makeStore();
  await storage.open();
  for (const id of USERS) {
    await storage.accounts.createUser({
      id,
      username: id,
      displayName: id,
      passwordHash: null,
      createdAt: 1,
    });
  }
  const service = new ChatService({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: { ...DEFAULT_LIMITS, maxSyncPage: 7 },
    sink: { deliver: () => undefined },
  });
  const channelId = (await service.createGroup(USERS[0]!, 'g', USERS.slice(1))).id;
  // Two devices per user; a device syncs only while online, in small pages.
  const devices: Device[] = USERS.flatMap((userId) =>
    [0, 1].map(() => ({
      userId,
      cache: new ChatCache(new MemoryStore(), () => userId),
      pos: 0,
      online: true,
      applied: [],
    })),
  );
  const syncDevice = async (d: Device) => {
    for (;;) {
      const page = await service.sync(d.userId, storage.chat.epoch(), d.pos, 7);
      if (page.entries.length === 0) return;
      d.applied.push(...page.entries.map((e) => e.pos));
      d.pos = page.entries.at(-1)!.pos;
      await d.cache.commitEntries(page.entries, { epoch: page.epoch, pos: d.pos });
      if (!page.hasMore) return;
    }
  };
  const done: Array<() => Promise<unknown>> = [];
  let n = 0;
  for (const step of steps) {
    const lastSeq = (await storage.chat.getChannel(channelId))!.lastSeq;
    const seq = 2 + (('target' in step ? step.target : 0) % Math.max(1, lastSeq - 1));
    const user = 'user' in step ? USERS[step.user]! : USERS[0]!;
    const id = `s${++n}`;
    let act: (() => Promise<unknown>) | undefined;
    switch (step.t) {
      case 'send': {
        const refs =
          lastSeq >= 2
            ? { ...(step.thread ? { threadRoot: seq } : {}), ...(step.reply ? { replyTo: seq } : {}) }
            : {};
        act = () => service.sendMessage(user, { channelId, clientMsgId: id, text: `text ${id}`, ...refs });
        break;
      }
      case 'edit':
        act = () => service.lifecycle.edit(user, { clientId: id, channelId, seq, text: `edit ${id}` });
        break;
      case 'delete':
        act = () => service.lifecycle.delete(user, { clientId: id, channelId, seq });
        break;
      case 'react':
        act = () =>
          service.lifecycle.react(user, {
            clientId: id,
            channelId,
            seq,
            emoji: EMOJIS[step.emoji]!,
            add: step.add,
          });
        break;
      case 'toggle':
        devices[step.device]!.online = !devices[step.device]!.online;
        break;
      case 'retry':
        // A retry after a lost answer: the same key again, applied at most once.
        if (done.length > 0) act = done[step.index % done.length];
        break;
    }
    if (act) {
      // Refusals (someone else's message, a deleted one, a bad reference) are part of the game.
      await act().catch((err: { code?: string }) => {
        if (!err.code?.startsWith('NATTER_')) throw err;
      });
      if (step.t !== 'retry') done.push(act);
    }
    for (const d of devices) if (d.online) await syncDevice(d);
  }
  for (const d of devices) await syncDevice(d);

  for (const d of devices) {
    // Every entry applied exactly once, in pos order.
    expect(d.applied).toEqual(Array.from({ length: d.applied.length }, (_, i) => i + 1));
    expect(d.pos).toBe(await storage.chat.syncHead(d.userId));
    const store = await service.history(d.userId, channelId, { limit: 200 });
    const cached = await d.cache.getMessages(channelId, { limit: 500 });
    expect(cached.map(view), `view of a device of ${d.userId}`).toEqual(store.messages.map(view));
  }
  await dispose();
}

describe('message lifecycle: every device converges on the store', () => {
  it('after random sends, edits, deletes, reactions, replies, threads, retries and devices going offline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 60 }), (steps) => run(steps)),
      { numRuns: 60 },
    );
  }, 60_000);
});

const PG_URL = process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('message lifecycle on PostgreSQL: every device converges on the store', () => {
  it('after random sends, edits, deletes, reactions, replies, threads, retries and devices going offline', async () => {
    const createPostgresStorage = await loadPostgresFactory();
    expect(createPostgresStorage, '@natter/storage-postgres is importable').toBeTypeOf('function');
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    // Each run gets its own schema (a fresh sync log and epoch), dropped after the run.
    const postgresStore: StoreMaker = async () => {
      const schema = `natter_prop_${randomBytes(5).toString('hex')}`;
      const storage = createPostgresStorage!({ connectionString: PG_URL, schema });
      return {
        storage,
        dispose: async () => {
          await storage.close();
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        },
      };
    };
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), (steps) =>
          run(steps, postgresStore),
        ),
        { numRuns: 8 },
      );
    } finally {
      await admin.end();
    }
  }, 180_000);
});
