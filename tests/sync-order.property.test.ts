import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, isMessageEntry, type MessageEntry } from '@natter/protocol';
import type { Delivery, StorageAdapter } from '@natter/server-core';
import { ChatService } from '@natter/server-core/internals';
import { createMemoryStorage } from '@natter/storage-memory';
import { createSqliteStorage } from '@natter/storage-sqlite';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const USERS = ['u_a', 'u_b', 'u_c', 'u_d'];

/** Channels: every pair as a direct channel, plus one group of all. */
async function setUp(storage: StorageAdapter, live: Delivery[]) {
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
    limits: { ...DEFAULT_LIMITS, maxSyncPage: 1000 },
    sink: { deliver: (d) => live.push(...d) },
  });
  const channels: Array<{ id: string; members: string[] }> = [];
  for (let i = 0; i < USERS.length; i++) {
    for (let j = i + 1; j < USERS.length; j++) {
      const ch = await service.openDirect(USERS[i]!, USERS[j]!);
      channels.push({ id: ch.id, members: ch.memberIds });
    }
  }
  const group = await service.createGroup(USERS[0]!, 'all', USERS.slice(1));
  channels.push({ id: group.id, members: group.memberIds });
  return { service, channels };
}

const sendsArb = fc.array(
  fc.record({ sender: fc.nat(USERS.length - 1), channel: fc.nat(6), delay: fc.integer({ min: 0, max: 3 }) }),
  { minLength: 1, maxLength: 60 },
);

async function runInterleaving(
  storage: StorageAdapter,
  sends: Array<{ sender: number; channel: number; delay: number }>,
) {
  const live: Delivery[] = [];
  const { service, channels } = await setUp(storage, live);
  const valid = sends
    .map((s, i) => ({ ...s, i, ch: channels[s.channel % channels.length]! }))
    .map((s) => ({ ...s, user: s.ch.members[s.sender % s.ch.members.length]! }));
  const acked = await Promise.all(
    valid.map(async (s) => {
      // Random yields interleave the senders differently on every run.
      for (let k = 0; k < s.delay; k++) await new Promise((r) => setImmediate(r));
      return service.sendMessage(s.user, { channelId: s.ch.id, clientMsgId: `c${s.i}`, text: `t${s.i}` });
    }),
  );

  // Channel sequences: exactly 1..n, no gaps, and every acked message stored once.
  for (const ch of channels) {
    const page = await storage.chat.readHistory(ch.id, { limit: 10_000, minSeq: 1, after: 0 });
    expect(page.messages.map((m) => m.seq)).toEqual(page.messages.map((_, i) => i + 1));
  }
  // Each user's log: positions 1..head, each message of their channels exactly once, per-channel order kept.
  for (const user of USERS) {
    const page = await service.sync(user, storage.chat.epoch(), 0, 1000);
    const { head } = page;
    // Only sends run here: every entry is a new message.
    const entries = page.entries.filter(isMessageEntry);
    expect(entries.map((e) => e.pos)).toEqual(entries.map((_, i) => i + 1));
    expect(head).toBe(entries.length);
    const ids = entries.map((e) => e.message.id);
    expect(new Set(ids).size).toBe(ids.length);
    const lastSeq = new Map<string, number>();
    for (const e of entries) {
      expect(e.message.seq).toBeGreaterThan(lastSeq.get(e.message.channelId) ?? 0);
      lastSeq.set(e.message.channelId, e.message.seq);
    }
    for (const [i, s] of valid.entries()) {
      if (s.ch.members.includes(user)) expect(ids).toContain(acked[i]!.entry.message.id);
    }
    // Live delivery carried the same entries, in position order.
    const livePositions = live.filter((d) => d.userId === user).map((d) => d.entry.pos);
    expect(livePositions).toEqual([...livePositions].sort((a, b) => a - b));
    expect(new Set(livePositions).size).toBe(entries.length);
  }
  // Ids grow with seq inside a channel (time-sortable).
  const all: MessageEntry[] = (await service.sync(USERS[0]!, storage.chat.epoch(), 0, 1000)).entries.filter(
    isMessageEntry,
  );
  for (const ch of channels) {
    const ids = all.filter((e) => e.message.channelId === ch.id).map((e) => e.message.id);
    expect(ids).toEqual([...ids].sort());
  }
}

describe('concurrent senders (property)', () => {
  it('keep channel sequences and sync logs gap-free and complete on SQLite', async () => {
    await fc.assert(
      fc.asyncProperty(sendsArb, async (sends) => {
        const dir = mkdtempSync(join(tmpdir(), 'natter-prop-'));
        const storage = createSqliteStorage({ path: join(dir, 'p.db'), synchronous: 'normal' });
        try {
          await runInterleaving(storage, sends);
        } finally {
          await storage.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 25 },
    );
  });

  it('keep channel sequences and sync logs gap-free and complete in memory', async () => {
    await fc.assert(
      fc.asyncProperty(sendsArb, async (sends) => {
        const storage = createMemoryStorage();
        try {
          await runInterleaving(storage, sends);
        } finally {
          await storage.close();
        }
      }),
      { numRuns: 50 },
    );
  });
});
