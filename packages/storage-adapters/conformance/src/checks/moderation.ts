import { DEFAULT_LIMITS, ErrorCode } from '@natter/protocol';
import type { ModerationRecord, StorageAdapter } from '@natter/server-core';
import { BlockList, ChatService, DirectGuard, GroupModeration } from '@natter/server-core/internals';
import { expect } from 'vitest';
import { createChannel, userRecord } from '../fixtures.js';
import { defineCheck } from '../harness.js';
import { rejection } from './lifecycle-service.js';

const moderation = { needsCapability: 'moderation' } as const;

const block = (blockerId: string, blockedId: string): ModerationRecord => ({
  kind: 'block',
  blockerId,
  blockedId,
  createdAt: 1_700_000_000_000,
});

/** Writes rows in one transaction. */
function put(adapter: StorageAdapter, rows: Record<string, ModerationRecord>): Promise<void> {
  return adapter.chat.write(async (tx) => {
    for (const [key, record] of Object.entries(rows)) await tx.moderation!.put(key, record);
  });
}

/** A chat service with the moderation rules over the adapter, on a settable clock. */
function moderatedService(adapter: StorageAdapter) {
  const clock = { now: 1_700_000_000_000 };
  const now = () => clock.now;
  const sink = { deliver: () => undefined };
  const blocks = new BlockList({ reads: adapter.chat.moderation!, accounts: adapter.accounts, now });
  const groups = new GroupModeration({ chat: adapter.chat, accounts: adapter.accounts, sink, now });
  const service = new ChatService({
    chat: adapter.chat,
    accounts: adapter.accounts,
    limits: DEFAULT_LIMITS,
    sink,
    now,
    rules: { blocks, groups, direct: new DirectGuard(adapter.chat, blocks) },
  });
  return { service, groups, clock };
}

async function createUsers(adapter: StorageAdapter, ids: readonly string[]): Promise<void> {
  for (const id of ids) await adapter.accounts.createUser(userRecord(id.slice(2), { id }));
}

/** Blocks, bans, slow mode and reports: the `moderation` capability. */
export const moderationChecks = {
  moderationRows: defineCheck(
    'moderation',
    'rows are read back by key and by prefix in key order, a prefix never matches a longer id, and `after` and `limit` page',
    async ({ adapter }) => {
      await put(adapter, {
        'block/u_a/u_c': block('u_a', 'u_c'),
        'block/u_a/u_b': block('u_a', 'u_b'),
        'block/u_a.x/u_b': block('u_a.x', 'u_b'),
        'block/u_a-/u_b': block('u_a-', 'u_b'),
        'block/u_a/u_B': block('u_a', 'u_B'),
      });
      const reads = adapter.chat.moderation!;
      expect(await reads.get('block/u_a/u_b')).toEqual(block('u_a', 'u_b'));
      expect(await reads.get('block/u_a/u_z')).toBeUndefined();
      const all = await reads.list('block/u_a/', undefined, 10);
      expect(all.map((e) => e.key)).toEqual(['block/u_a/u_B', 'block/u_a/u_b', 'block/u_a/u_c']);
      expect(all[1]!.record).toEqual(block('u_a', 'u_b'));
      expect((await reads.list('block/u_a/', 'block/u_a/u_B', 1)).map((e) => e.key)).toEqual([
        'block/u_a/u_b',
      ]);
      expect(await reads.list('block/u_a/', undefined, 0)).toEqual([]);
      expect(await reads.list('block/u_q/', undefined, 10)).toEqual([]);
    },
    moderation,
  ),

  moderationWrites: defineCheck(
    'moderation',
    'a write sees its own puts and deletes, a failed write leaves nothing, and a delete says whether a row was there',
    async ({ adapter }) => {
      await put(adapter, {
        'ban/g_1/u_a': { kind: 'ban', channelId: 'g_1', userId: 'u_a', bannedBy: 'u_z', createdAt: 1 },
      });
      const failed = adapter.chat.write(async (tx) => {
        await tx.moderation!.put('ban/g_1/u_b', {
          kind: 'ban',
          channelId: 'g_1',
          userId: 'u_b',
          bannedBy: 'u_z',
          createdAt: 2,
        });
        expect(await tx.moderation!.delete('ban/g_1/u_a')).toBe(true);
        expect((await tx.moderation!.list('ban/g_1/', undefined, 10)).map((e) => e.key)).toEqual([
          'ban/g_1/u_b',
        ]);
        expect(await tx.moderation!.get('ban/g_1/u_a')).toBeUndefined();
        throw new Error('roll back');
      });
      await expect(failed).rejects.toThrow('roll back');
      const reads = adapter.chat.moderation!;
      expect((await reads.list('ban/g_1/', undefined, 10)).map((e) => e.key)).toEqual(['ban/g_1/u_a']);
      const deleted = await adapter.chat.write(async (tx) => [
        await tx.moderation!.delete('ban/g_1/u_a'),
        await tx.moderation!.delete('ban/g_1/u_a'),
      ]);
      expect(deleted).toEqual([true, false]);
      expect(await reads.get('ban/g_1/u_a')).toBeUndefined();
      const report: ModerationRecord = {
        kind: 'report',
        report: {
          id: 'rep_1',
          reporterId: 'u_a',
          userId: 'u_b',
          reason: 'spam',
          note: 'é 👋 "quoted"',
          createdAt: 3,
          status: 'open',
        },
      };
      await put(adapter, { 'report/open/rep_1': report });
      expect(await reads.get('report/open/rep_1')).toEqual(report);
    },
    moderation,
  ),

  moderationReopen: defineCheck(
    'moderation',
    'rows survive a reopen',
    async (context) => {
      await put(context.adapter, {
        'slow/g_1': { kind: 'slowMode', channelId: 'g_1', seconds: 30, setBy: 'u_a', setAt: 5 },
      });
      const reopened = await context.reopen!();
      expect(await reopened.chat.moderation!.get('slow/g_1')).toEqual({
        kind: 'slowMode',
        channelId: 'g_1',
        seconds: 30,
        setBy: 'u_a',
        setAt: 5,
      });
    },
    { ...moderation, needsReopen: true },
  ),

  banRace: defineCheck(
    'moderation',
    'a ban and an add of the same user racing never leave the banned user a member',
    async ({ adapter }) => {
      await createUsers(adapter, ['u_admin', 'u_member', 'u_target']);
      const { service, groups } = moderatedService(adapter);
      for (let round = 0; round < 5; round++) {
        const group = await service.createGroup('u_admin', 'team', ['u_member']);
        const [ban, add] = await Promise.allSettled([
          groups.ban('u_admin', group.id, 'u_target'),
          service.addMembers('u_member', group.id, ['u_target']),
        ]);
        expect(ban.status).toBe('fulfilled');
        if (add.status === 'rejected')
          expect((add.reason as { code?: string }).code).toBe(ErrorCode.USER_BANNED);
        expect(await adapter.chat.getMember(group.id, 'u_target')).toBeUndefined();
        expect(await rejection(service.addMembers('u_member', group.id, ['u_target']))).toBe(
          ErrorCode.USER_BANNED,
        );
      }
    },
    moderation,
  ),

  slowModeTurns: defineCheck(
    'moderation',
    'slow mode takes a member’s turn in the send’s transaction: refused until the interval has passed, admins exempt',
    async ({ adapter }) => {
      await createUsers(adapter, ['u_admin', 'u_member']);
      const { service, groups, clock } = moderatedService(adapter);
      const group = await service.createGroup('u_admin', 'team', ['u_member']);
      await groups.setSlowMode('u_admin', group.id, 5);
      let n = 0;
      const send = (userId: string) =>
        service.sendMessage(userId, { channelId: group.id, clientMsgId: `k${++n}`, text: 'hi' });
      await send('u_member');
      clock.now += 4_999;
      const refused = await send('u_member').catch((e: { code: string; retryAfterMs?: number }) => e);
      expect(refused).toMatchObject({ code: ErrorCode.SLOW_MODE, retryAfterMs: 1 });
      await send('u_admin');
      await send('u_admin');
      clock.now += 1;
      await send('u_member');
      await createChannel(adapter, 'c_plain', ['u_member']);
      expect(await groups.slowModeSeconds('c_plain')).toBe(0);
    },
    moderation,
  ),
};
