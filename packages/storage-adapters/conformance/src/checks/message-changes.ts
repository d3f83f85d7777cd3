import { ErrorCode } from '@natter/protocol';
import { expect } from 'vitest';
import { createChannel, memberRecord } from '../fixtures.js';
import { defineCheck } from '../harness.js';
import { heads, lifecycleService, rejection } from './lifecycle-service.js';

const MEMBERS = ['u_alice', 'u_bob', 'u_carol'];
const lifecycle = { needsCapability: 'lifecycle' } as const;

/** Edits, deletes and their rules, through the core's `ChatService` on the adapter under test. */
export const messageChangeChecks = {
  editReachesEveryone: defineCheck(
    'message changes',
    'an edit replaces text and mentions everywhere and appends an edited entry to every member log',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service, deliveries, clock } = lifecycleService(adapter);
      await service.sendMessage('u_bob', {
        channelId: 'c1',
        clientMsgId: 'k1',
        text: 'teh plan',
        mentions: ['u_alice'],
      });
      clock.now += 5_000;
      const edit = { clientId: 'e1', channelId: 'c1', seq: 1, text: 'the plan', mentions: ['u_carol'] };
      const result = await service.lifecycle.edit('u_bob', edit);
      expect(result.duplicate).toBe(false);
      expect(result.entry).toMatchObject({ pos: 2, kind: 'edited' });
      const stored = await adapter.chat.getMessage('c1', 1);
      expect(stored).toMatchObject({
        text: 'the plan',
        mentions: ['u_carol'],
        version: 2,
        editedAt: clock.now,
      });
      for (const userId of MEMBERS) {
        const log = await adapter.chat.readSync(userId, 0, 10);
        expect(
          log.map((e) => e.kind),
          `log of ${userId}`,
        ).toEqual(['message', 'edited']);
        expect(log[0]).toMatchObject({ message: { text: 'the plan' } });
      }
      expect(deliveries.filter((d) => d.entry.kind === 'edited')).toHaveLength(MEMBERS.length);
      const history = await service.history('u_alice', 'c1', {});
      expect(history.messages[0]?.text).toBe('the plan');
      expect((await service.listChannels('u_alice'))[0]?.lastMessage?.text).toBe('the plan');
      expect(await adapter.chat.mentionsOf({ userId: 'u_alice', limit: 10 })).toEqual([]);
      expect((await adapter.chat.mentionsOf({ userId: 'u_carol', limit: 10 })).map((m) => m.text)).toEqual([
        'the plan',
      ]);
      if (adapter.chat.searchMessages) {
        const found = (text: string) => adapter.chat.searchMessages!({ userId: 'u_alice', limit: 10, text });
        expect(await found('teh')).toEqual([]);
        expect((await found('the plan')).map((m) => m.seq)).toEqual([1]);
      }
      // An edit is no new message: it raises no one's unread count.
      expect(await adapter.chat.countUnread('c1', 'u_alice', 0)).toBe(1);
    },
    lifecycle,
  ),

  deleteErasesContent: defineCheck(
    'message changes',
    'a delete leaves a tombstone: no text, mention, search hit, reaction or preview can be read back, after a reopen too',
    async (context) => {
      await createChannel(context.adapter, 'c1', MEMBERS);
      const { service } = lifecycleService(context.adapter);
      const secret = 'launch code zebra42';
      await service.sendMessage('u_bob', {
        channelId: 'c1',
        clientMsgId: 'k1',
        text: secret,
        mentions: ['u_alice'],
      });
      await service.lifecycle.edit('u_bob', {
        clientId: 'e1',
        channelId: 'c1',
        seq: 1,
        text: `${secret} v2`,
      });
      await service.lifecycle.react('u_carol', {
        clientId: 'r1',
        channelId: 'c1',
        seq: 1,
        emoji: '🔥',
        add: true,
      });
      await service.sendMessage('u_carol', {
        channelId: 'c1',
        clientMsgId: 'k2',
        text: 'answer',
        replyTo: 1,
      });
      const deleted = await service.lifecycle.delete('u_bob', { clientId: 'd1', channelId: 'c1', seq: 1 });
      expect(deleted.entry).toMatchObject({
        kind: 'deleted',
        message: { seq: 1, text: '', deletedBy: 'u_bob' },
      });
      const check = async () => {
        const { adapter } = context;
        const tomb = await adapter.chat.getMessage('c1', 1);
        expect(tomb).toMatchObject({ seq: 1, senderId: 'u_bob', text: '', mentions: [], deletedBy: 'u_bob' });
        expect(tomb?.deletedAt).toBeTypeOf('number');
        const everything = JSON.stringify([
          await adapter.chat.readHistory('c1', { limit: 10, minSeq: 1 }),
          await adapter.chat.readSync('u_alice', 0, 20),
          await adapter.chat.mentionsOf({ userId: 'u_alice', limit: 10 }),
          await adapter.chat.lifecycle?.reactionsOf('c1', [1], 'u_carol').then((m) => [...m]),
          await lifecycleService(adapter).service.history('u_alice', 'c1', {}),
          await lifecycleService(adapter).service.sync('u_alice', adapter.chat.epoch(), 0),
        ]);
        expect(everything).not.toContain('zebra42');
        // Reactions go with the message (the log keeps who reacted when, which is no content of it).
        expect((await adapter.chat.lifecycle?.reactionsOf('c1', [1], 'u_carol'))?.size).toBe(0);
        const history = await lifecycleService(adapter).service.history('u_carol', 'c1', {});
        expect(history.messages[0]?.reactions).toBeUndefined();
        if (adapter.chat.searchMessages) {
          expect(
            await adapter.chat.searchMessages({ userId: 'u_alice', limit: 10, text: 'zebra42' }),
          ).toEqual([]);
        }
        const reply = (await lifecycleService(adapter).service.history('u_alice', 'c1', {})).messages.at(-1);
        expect(reply?.replyPreview).toEqual({ senderId: 'u_bob', text: '', deleted: true });
      };
      await check();
      if (context.reopen) {
        await context.reopen();
        await check();
      }
    },
    lifecycle,
  ),

  deletedUnreadLowersUnread: defineCheck(
    'message changes',
    'deleting an unread message lowers the unread count, and a deleted message cannot be edited, reacted to or replied to',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service } = lifecycleService(adapter);
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k1', text: 'one' });
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k2', text: 'two' });
      expect(await adapter.chat.countUnread('c1', 'u_alice', 0)).toBe(2);
      await service.lifecycle.delete('u_bob', { clientId: 'd1', channelId: 'c1', seq: 2 });
      expect(await adapter.chat.countUnread('c1', 'u_alice', 0)).toBe(1);
      expect((await service.listChannels('u_alice'))[0]?.unread).toBe(1);
      const before = await heads(adapter, MEMBERS);
      const target = { channelId: 'c1', seq: 2 };
      expect(
        await rejection(service.lifecycle.edit('u_bob', { ...target, clientId: 'e', text: 'back' })),
      ).toBe(ErrorCode.MESSAGE_DELETED);
      expect(
        await rejection(
          service.lifecycle.react('u_alice', { ...target, clientId: 'r', emoji: '👍', add: true }),
        ),
      ).toBe(ErrorCode.MESSAGE_DELETED);
      expect(await rejection(service.lifecycle.delete('u_bob', { ...target, clientId: 'd2' }))).toBe(
        ErrorCode.MESSAGE_DELETED,
      );
      expect(
        await rejection(
          service.sendMessage('u_alice', { channelId: 'c1', clientMsgId: 'k3', text: 're', replyTo: 2 }),
        ),
      ).toBe(ErrorCode.MESSAGE_DELETED);
      expect(await heads(adapter, MEMBERS)).toEqual(before);
      expect((await adapter.chat.getMessage('c1', 2))?.text).toBe('');
    },
    lifecycle,
  ),

  permissions: defineCheck(
    'message changes',
    'only the author edits, the author or a group admin deletes, a stranger gets NOT_FOUND, and a refusal stores nothing',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      await adapter.chat.write((tx) => tx.upsertMember(memberRecord('c1', 'u_carol', { role: 'admin' })));
      const { service, clock } = lifecycleService(adapter, { editWindowMs: 60_000 });
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k1', text: 'mine' });
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k2', text: 'also mine' });
      const before = await heads(adapter, MEMBERS);
      const one = { channelId: 'c1', seq: 1 };
      expect(await rejection(service.lifecycle.edit('u_alice', { ...one, clientId: 'a', text: 'x' }))).toBe(
        ErrorCode.FORBIDDEN,
      );
      expect(await rejection(service.lifecycle.delete('u_alice', { ...one, clientId: 'b' }))).toBe(
        ErrorCode.FORBIDDEN,
      );
      for (const stranger of ['u_mallory']) {
        expect(await rejection(service.lifecycle.edit(stranger, { ...one, clientId: 'c', text: 'x' }))).toBe(
          ErrorCode.NOT_FOUND,
        );
        expect(await rejection(service.lifecycle.delete(stranger, { ...one, clientId: 'd' }))).toBe(
          ErrorCode.NOT_FOUND,
        );
        expect(
          await rejection(
            service.lifecycle.react(stranger, { ...one, clientId: 'e', emoji: '👍', add: true }),
          ),
        ).toBe(ErrorCode.NOT_FOUND);
        expect(await rejection(service.lifecycle.reactors(stranger, { ...one, emoji: '👍' }))).toBe(
          ErrorCode.NOT_FOUND,
        );
        // The same answer as for a channel that does not exist.
        expect(
          await rejection(
            service.lifecycle.edit(stranger, { channelId: 'nope', seq: 1, clientId: 'f', text: 'x' }),
          ),
        ).toBe(ErrorCode.NOT_FOUND);
      }
      expect(
        await rejection(
          service.lifecycle.edit('u_bob', { channelId: 'c1', seq: 9, clientId: 'g', text: 'x' }),
        ),
      ).toBe(ErrorCode.NOT_FOUND);
      clock.now += 61_000;
      expect(await rejection(service.lifecycle.edit('u_bob', { ...one, clientId: 'h', text: 'late' }))).toBe(
        ErrorCode.EDIT_WINDOW_CLOSED,
      );
      expect(
        await rejection(
          service.lifecycle.edit('u_bob', { ...one, clientId: 'i', text: 'x'.repeat(DEFAULT_BYTES + 1) }),
        ),
      ).toBe(ErrorCode.MESSAGE_TOO_LARGE);
      expect(await heads(adapter, MEMBERS)).toEqual(before);
      expect((await adapter.chat.getMessage('c1', 1))?.text).toBe('mine');
      // The group admin may delete anyone's message.
      const byAdmin = await service.lifecycle.delete('u_carol', { ...one, clientId: 'j' });
      expect(byAdmin.entry).toMatchObject({ kind: 'deleted', message: { deletedBy: 'u_carol' } });
    },
    lifecycle,
  ),

  mutationsAreIdempotent: defineCheck(
    'message changes',
    'a retried clientId is answered with the original entry and applied once, even after later changes',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service } = lifecycleService(adapter);
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k1', text: 'v1' });
      const edit = { clientId: 'e1', channelId: 'c1', seq: 1, text: 'v2' };
      const first = await service.lifecycle.edit('u_bob', edit);
      const retry = await service.lifecycle.edit('u_bob', { ...edit, text: 'v3' });
      expect(retry).toEqual({
        entry: { ...first.entry, message: expect.objectContaining({ text: 'v2' }) },
        duplicate: true,
      });
      expect((await adapter.chat.getMessage('c1', 1))?.version).toBe(2);
      const react = { clientId: 'r1', channelId: 'c1', seq: 1, emoji: '👍', add: true };
      const reacted = await service.lifecycle.react('u_alice', react);
      expect(await service.lifecycle.react('u_alice', react)).toEqual({
        entry: reacted.entry,
        duplicate: true,
      });
      // A new key adding the same reaction changes nothing and writes no entry.
      expect(await service.lifecycle.react('u_alice', { ...react, clientId: 'r2' })).toEqual({
        entry: null,
        duplicate: false,
      });
      await service.lifecycle.delete('u_bob', { clientId: 'd1', channelId: 'c1', seq: 1 });
      // The retry of the edit after the delete: still the original answer, and no resurrection.
      expect((await service.lifecycle.edit('u_bob', edit)).duplicate).toBe(true);
      expect((await adapter.chat.getMessage('c1', 1))?.text).toBe('');
      expect(await adapter.chat.syncHead('u_carol')).toBe(4);
    },
    lifecycle,
  ),
};

const DEFAULT_BYTES = 16 * 1024;
