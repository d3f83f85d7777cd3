import { ErrorCode, type StorageAdapter } from '@natter/server-core';
import { expect } from 'vitest';
import {
  append,
  channelRecord,
  createChannel,
  gate,
  memberRecord,
  readMessageLog,
  stored,
  textMessage,
  yieldTurn,
} from '../fixtures.js';
import { defineCheck } from '../harness.js';

/** Everything a check can observe about channel `c1` and users alice and bob. */
async function snapshot(adapter: StorageAdapter) {
  const { chat } = adapter;
  return {
    channel: await chat.getChannel('c1'),
    members: (await chat.listMembers('c1')).sort((a, b) => (a.userId < b.userId ? -1 : 1)),
    newChannel: await chat.getChannel('c_new'),
    history: await chat.readHistory('c1', { limit: 100, minSeq: 0 }),
    aliceHead: await chat.syncHead('u_alice'),
    bobHead: await chat.syncHead('u_bob'),
    aliceSync: await chat.readSync('u_alice', 0, 100),
    channelsOfAlice: await chat.listChannelsOf('u_alice'),
    bobMentions: await chat.mentionsOf({ userId: 'u_bob', limit: 100 }),
    bobSearch: adapter.manifest.capabilities.search
      ? await chat.searchMessages?.({ userId: 'u_bob', limit: 100, text: 'doomed' })
      : undefined,
  };
}

class Planned extends Error {}

/** Atomicity and isolation of `write()`. */
export const rollbackChecks = {
  throwingWriteLeavesNothing: defineCheck(
    'write atomicity',
    'a write that throws after appending leaves nothing behind, and its numbers are handed out again',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      await append(adapter, textMessage('c1', 'u_alice'), ['u_alice', 'u_bob']);
      const before = await snapshot(adapter);

      const failure = new Planned('planned failure');
      const doomed = adapter.chat.write(
        async (tx) => {
          await tx.appendMessage(
            textMessage('c1', 'u_alice', { clientMsgId: 'cm-doomed', text: 'doomed', mentions: ['u_bob'] }),
            ['u_alice', 'u_bob'],
          );
          await tx.appendMessage(textMessage('c1', 'u_bob'), ['u_bob']);
          await tx.insertChannel(channelRecord('c_new', { directKey: 'u_x|u_y' }));
          await tx.upsertMember(memberRecord('c1', 'u_carol'));
          await tx.upsertMember({ ...memberRecord('c1', 'u_bob'), role: 'admin' });
          await tx.deleteMember('c1', 'u_alice');
          await tx.renameChannel('c1', 'renamed');
          await tx.raiseReadMarker('c1', 'u_bob', 2);
          await tx.raiseDeliveredMarker('c1', 'u_bob', 2);
          await yieldTurn();
          throw failure;
        },
        { channelId: 'c1' },
      );
      await expect(doomed).rejects.toBe(failure);
      expect(await snapshot(adapter)).toEqual(before);
      expect(
        await adapter.chat.write(async (tx) => ({
          byKey: await tx.findByClientMsgId('u_alice', 'cm-doomed'),
          direct: await tx.findDirectChannel('u_x|u_y'),
        })),
      ).toEqual({ byKey: undefined, direct: undefined });

      const next = await append(adapter, textMessage('c1', 'u_bob', { clientMsgId: 'cm-doomed' }), [
        'u_alice',
        'u_bob',
      ]);
      expect(next.message.seq).toBe(2);
      expect(next.positions).toEqual([
        { userId: 'u_alice', pos: 2 },
        { userId: 'u_bob', pos: 2 },
      ]);
    },
  ),

  caughtAppendFailureLeavesNothing: defineCheck(
    'write atomicity',
    'an appendMessage that failed leaves nothing, even when the write catches the error and goes on',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice']);
      await append(adapter, textMessage('c1', 'u_alice', { clientMsgId: 'k' }), ['u_alice']);
      const result = await adapter.chat.write(
        async (tx) => {
          const codeOf = (attempt: Promise<unknown>) =>
            attempt.then(
              () => 'appended',
              (e: { code?: string }) => e.code,
            );
          const duplicate = await codeOf(
            tx.appendMessage(textMessage('c1', 'u_alice', { clientMsgId: 'k' }), ['u_alice']),
          );
          const missing = await codeOf(tx.appendMessage(textMessage('c_none', 'u_alice'), ['u_alice']));
          const ok = await tx.appendMessage(textMessage('c1', 'u_alice', { text: 'kept' }), ['u_alice']);
          return {
            duplicate,
            missing,
            seq: ok.message.seq,
            pos: ok.positions[0]?.pos,
          };
        },
        { channelId: 'c1' },
      );
      expect(result).toEqual({ duplicate: ErrorCode.CONFLICT, missing: ErrorCode.NOT_FOUND, seq: 2, pos: 2 });
      const log = await readMessageLog(adapter, 'u_alice', 0, 10);
      expect(log.map((e) => [e.pos, e.message.seq, e.message.text])).toEqual([
        [1, 1, log[0]?.message.text],
        [2, 2, 'kept'],
      ]);
      expect((await adapter.chat.getChannel('c1'))?.lastSeq).toBe(2);
    },
  ),

  failureIsolated: defineCheck(
    'write atomicity',
    'only the throwing write rejects; concurrent writes beside it commit with contiguous numbers',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      const recipients = ['u_alice', 'u_bob'];
      const first = textMessage('c1', 'u_alice');
      const last = textMessage('c1', 'u_bob');
      const failure = new Planned('planned failure');
      const results = await Promise.allSettled([
        append(adapter, first, recipients),
        adapter.chat.write(
          async (tx) => {
            await tx.appendMessage(textMessage('c1', 'u_alice'), recipients);
            throw failure;
          },
          { channelId: 'c1' },
        ),
        append(adapter, last, recipients),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toBe(failure);
      const seqs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.message.seq] : []));
      expect(seqs.sort()).toEqual([1, 2]);
      expect((await adapter.chat.getChannel('c1'))?.lastSeq).toBe(2);
      const ids = (await readMessageLog(adapter, 'u_bob', 0, 10)).map((e) => [e.pos, e.message.id]);
      expect(ids.map(([pos]) => pos)).toEqual([1, 2]);
      expect(new Set(ids.map(([, id]) => id))).toEqual(new Set([first.id, last.id]));
    },
  ),

  uncommittedInvisible: defineCheck(
    'write atomicity',
    'reads outside write() do not see a write before it commits, and see all of it once write() resolves',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice']);
      const hold = gate();
      const appended = gate();
      const message = textMessage('c1', 'u_alice');
      const pending = adapter.chat.write(
        async (tx) => {
          await tx.appendMessage(message, ['u_alice']);
          await tx.renameChannel('c1', 'renamed');
          appended.open();
          await hold.promise;
        },
        { channelId: 'c1' },
      );
      await appended.promise;
      await yieldTurn();
      expect(await adapter.chat.getChannel('c1')).toMatchObject({ lastSeq: 0, name: 'name of c1' });
      expect(await adapter.chat.getMessage('c1', 1)).toBeUndefined();
      expect(await adapter.chat.syncHead('u_alice')).toBe(0);
      expect(await adapter.chat.readSync('u_alice', 0, 10)).toEqual([]);
      hold.open();
      await pending;
      expect(await adapter.chat.getChannel('c1')).toMatchObject({ lastSeq: 1, name: 'renamed' });
      expect(await adapter.chat.getMessage('c1', 1)).toEqual(stored(message, 1));
      expect(await adapter.chat.syncHead('u_alice')).toBe(1);
    },
  ),
};
