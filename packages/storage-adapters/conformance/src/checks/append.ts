import { expect } from 'vitest';
import { append, createChannel, stored, systemMessage, textMessage } from '../fixtures.js';
import { defineCheck } from '../harness.js';

/** appendMessage, sequence allocation and idempotency keys. */
export const appendChecks = {
  sequences: defineCheck(
    'appendMessage',
    'appendMessage gives seq 1..n per channel and pos 1..n per recipient, in recipient order',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      await createChannel(adapter, 'c2', ['u_alice', 'u_carol']);
      const m1 = textMessage('c1', 'u_alice');
      const m2 = textMessage('c2', 'u_carol');
      const m3 = textMessage('c1', 'u_bob');
      expect(await append(adapter, m1, ['u_alice', 'u_bob'])).toEqual({
        message: stored(m1, 1),
        positions: [
          { userId: 'u_alice', pos: 1 },
          { userId: 'u_bob', pos: 1 },
        ],
      });
      expect(await append(adapter, m2, ['u_carol', 'u_alice'])).toEqual({
        message: stored(m2, 1),
        positions: [
          { userId: 'u_carol', pos: 1 },
          { userId: 'u_alice', pos: 2 },
        ],
      });
      expect(await append(adapter, m3, ['u_bob', 'u_alice'])).toEqual({
        message: stored(m3, 2),
        positions: [
          { userId: 'u_bob', pos: 2 },
          { userId: 'u_alice', pos: 3 },
        ],
      });
      expect((await adapter.chat.getChannel('c1'))?.lastSeq).toBe(2);
      expect((await adapter.chat.getChannel('c2'))?.lastSeq).toBe(1);
      expect(await adapter.chat.getMessage('c1', 1)).toEqual(stored(m1, 1));
      expect(await adapter.chat.getMessage('c1', 2)).toEqual(stored(m3, 2));
      expect(await adapter.chat.getMessage('c1', 3)).toBeUndefined();
      expect(await adapter.chat.getMessage('c1', 0)).toBeUndefined();
      expect(await adapter.chat.syncHead('u_alice')).toBe(3);
      expect(await adapter.chat.syncHead('u_bob')).toBe(2);
      expect(await adapter.chat.syncHead('u_carol')).toBe(1);
      expect(await adapter.chat.syncHead('u_nobody')).toBe(0);
    },
  ),

  roundTrip: defineCheck(
    'appendMessage',
    'messages keep their text, mentions, system event and clientMsgId exactly',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      const created = systemMessage('c1', {
        action: 'created',
        actorId: 'u_alice',
        name: 'Ünïcode "quotes" \\ and emoji 🎉',
        memberIds: ['u_alice', 'u_bob'],
      });
      const text = textMessage('c1', 'u_bob', {
        clientMsgId: 'cm-1',
        text: "multi\nline 'text' with \u0000 nul, %_ wildcards and 🎉",
        mentions: ['u_alice', 'u_carol'],
        createdAt: 1_700_000_000_123,
      });
      const renamed = systemMessage('c1', { action: 'renamed', actorId: 'u_bob', name: '' });
      await append(adapter, created, ['u_alice', 'u_bob']);
      await append(adapter, text, ['u_alice', 'u_bob']);
      await append(adapter, renamed, ['u_alice', 'u_bob']);
      expect(await adapter.chat.getMessage('c1', 1)).toEqual(stored(created, 1));
      expect(await adapter.chat.getMessage('c1', 2)).toEqual(stored(text, 2));
      expect(await adapter.chat.getMessage('c1', 3)).toEqual(stored(renamed, 3));
    },
  ),

  ownWritesVisible: defineCheck(
    'appendMessage',
    'reads inside a write see its own uncommitted changes, and write() resolves to the function result',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice']);
      const message = textMessage('c1', 'u_alice', { clientMsgId: 'cm-1' });
      const result = await adapter.chat.write(
        async (tx) => {
          await tx.appendMessage(message, ['u_alice']);
          await tx.upsertMember({
            channelId: 'c1',
            userId: 'u_bob',
            role: 'member',
            joinedAt: 1,
            joinedSeq: 2,
            readSeq: 0,
            deliveredSeq: 0,
          });
          return {
            lastSeq: (await tx.getChannel('c1'))?.lastSeq,
            bob: (await tx.getMember('c1', 'u_bob'))?.joinedSeq,
            members: (await tx.listMembers('c1')).length,
            byKey: await tx.findByClientMsgId('u_alice', 'cm-1'),
          };
        },
        { channelId: 'c1' },
      );
      expect(result).toEqual({
        lastSeq: 1,
        bob: 2,
        members: 2,
        byKey: { message: stored(message, 1), senderPos: 1 },
      });
    },
  ),

  idempotencyKey: defineCheck(
    'appendMessage',
    "findByClientMsgId returns the original message and the sender's pos, per sender",
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      await append(adapter, textMessage('c1', 'u_bob'), ['u_bob']);
      await append(adapter, textMessage('c1', 'u_bob'), ['u_bob', 'u_alice']);
      const keyed = textMessage('c1', 'u_alice', { clientMsgId: 'cm-1' });
      const appended = await append(adapter, keyed, ['u_bob', 'u_alice']);
      expect(appended.positions).toEqual([
        { userId: 'u_bob', pos: 3 },
        { userId: 'u_alice', pos: 2 },
      ]);
      await append(adapter, textMessage('c1', 'u_bob', { clientMsgId: 'cm-2' }), ['u_bob', 'u_alice']);

      const lookups = await adapter.chat.write(async (tx) => ({
        own: await tx.findByClientMsgId('u_alice', 'cm-1'),
        otherSender: await tx.findByClientMsgId('u_bob', 'cm-1'),
        unknown: await tx.findByClientMsgId('u_alice', 'cm-9'),
      }));
      expect(lookups).toEqual({
        own: { message: stored(keyed, 3), senderPos: 2 },
        otherSender: undefined,
        unknown: undefined,
      });
    },
  ),
};
