import { ErrorCode } from '@natter/protocol';
import { expect } from 'vitest';
import { createChannel } from '../fixtures.js';
import { defineCheck } from '../harness.js';
import { heads, lifecycleService, rejection } from './lifecycle-service.js';

const MEMBERS = ['u_alice', 'u_bob', 'u_carol'];
const lifecycle = { needsCapability: 'lifecycle' } as const;

/** Reactions, replies, threads and the unread rules they touch. */
export const reactionThreadChecks = {
  reactions: defineCheck(
    'reactions and threads',
    'reactions count once per user and emoji, show whether the reader reacted, page who reacted, and stop at the emoji limit',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service } = lifecycleService(adapter, { maxReactionEmojis: 2 });
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k1', text: 'vote' });
      const at = { channelId: 'c1', seq: 1 };
      let n = 0;
      const react = (userId: string, emoji: string, add = true) =>
        service.lifecycle.react(userId, { ...at, clientId: `r${++n}`, emoji, add });
      for (const userId of MEMBERS) await react(userId, '👍');
      await react('u_alice', '🎉');
      expect((await react('u_alice', '🎉')).entry).toBeNull();
      const before = await heads(adapter, MEMBERS);
      expect(await rejection(react('u_bob', '🚀'))).toBe(ErrorCode.REACTION_LIMIT);
      expect(await heads(adapter, MEMBERS)).toEqual(before);
      const seen = (await service.history('u_bob', 'c1', {})).messages[0]?.reactions;
      expect(seen).toEqual([
        { emoji: '👍', count: 3, me: true },
        { emoji: '🎉', count: 1, me: false },
      ]);
      const first = await service.lifecycle.reactors('u_bob', { ...at, emoji: '👍', limit: 2 });
      expect(first).toEqual({ userIds: ['u_alice', 'u_bob'], hasMore: true });
      expect(
        await service.lifecycle.reactors('u_bob', { ...at, emoji: '👍', after: 'u_bob', limit: 2 }),
      ).toEqual({
        userIds: ['u_carol'],
        hasMore: false,
      });
      const removed = await react('u_alice', '🎉', false);
      expect(removed.entry).toMatchObject({ kind: 'reaction', userId: 'u_alice', emoji: '🎉', added: false });
      // With 🎉 gone there is room for another emoji.
      expect((await react('u_bob', '🚀')).entry).toMatchObject({ kind: 'reaction', added: true });
      const log = await adapter.chat.readSync('u_carol', 0, 20);
      expect(log.filter((e) => e.kind === 'reaction')).toHaveLength(6);
      expect(await adapter.chat.countUnread('c1', 'u_alice', 0)).toBe(1);
    },
    lifecycle,
  ),

  replies: defineCheck(
    'reactions and threads',
    'a reply carries a preview of its parent as it is now; a reply to a missing or unseen message is BAD_REFERENCE',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      await createChannel(adapter, 'c2', MEMBERS);
      const { service } = lifecycleService(adapter);
      const long = `${'x'.repeat(99)}é and more`;
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k1', text: long });
      const reply = await service.sendMessage('u_alice', {
        channelId: 'c1',
        clientMsgId: 'k2',
        text: 'yes',
        replyTo: 1,
      });
      expect(reply.entry.message).toMatchObject({
        replyTo: 1,
        replyPreview: { senderId: 'u_bob', text: `${'x'.repeat(99)}é`, deleted: false },
      });
      await service.lifecycle.edit('u_bob', { clientId: 'e1', channelId: 'c1', seq: 1, text: 'short' });
      const page = await service.history('u_carol', 'c1', {});
      expect(page.messages[1]?.replyPreview).toEqual({ senderId: 'u_bob', text: 'short', deleted: false });
      const before = await heads(adapter, MEMBERS);
      for (const bad of [{ replyTo: 7 }, { threadRoot: 7 }]) {
        expect(
          await rejection(
            service.sendMessage('u_alice', {
              channelId: 'c2',
              clientMsgId: `b${JSON.stringify(bad)}`,
              text: 'x',
              ...bad,
            }),
          ),
        ).toBe(ErrorCode.BAD_REFERENCE);
      }
      expect(await heads(adapter, MEMBERS)).toEqual(before);
    },
    lifecycle,
  ),

  threads: defineCheck(
    'reactions and threads',
    'thread replies raise the root counters, page like history, and count as unread only when they mention the reader',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service, clock } = lifecycleService(adapter);
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'root', text: 'topic' });
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'side', text: 'elsewhere' });
      for (let i = 0; i < 5; i++) {
        clock.now += 1_000;
        await service.sendMessage('u_carol', {
          channelId: 'c1',
          clientMsgId: `t${i}`,
          text: `reply ${i}`,
          threadRoot: 1,
          ...(i === 4 ? { mentions: ['u_alice'] } : {}),
        });
      }
      const root = await adapter.chat.getMessage('c1', 1);
      expect(root).toMatchObject({ threadReplies: 5, threadLastReplyAt: clock.now });
      const newest = await service.history('u_alice', 'c1', { threadRoot: 1, limit: 2 });
      expect(newest.messages.map((m) => m.text)).toEqual(['reply 3', 'reply 4']);
      expect(newest).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
      const older = await service.history('u_alice', 'c1', {
        threadRoot: 1,
        before: newest.messages[0]!.seq,
        limit: 2,
      });
      expect(older.messages.map((m) => m.text)).toEqual(['reply 1', 'reply 2']);
      const around = await service.history('u_alice', 'c1', {
        threadRoot: 1,
        around: older.messages[0]!.seq,
        limit: 3,
      });
      expect(around.messages.map((m) => m.text)).toEqual(['reply 0', 'reply 1', 'reply 2']);
      // Two channel messages from bob, and of the five thread replies only the one mentioning alice.
      expect(await adapter.chat.countUnread('c1', 'u_alice', 0)).toBe(3);
      expect(
        await rejection(
          service.sendMessage('u_alice', { channelId: 'c1', clientMsgId: 'nest', text: 'x', threadRoot: 3 }),
        ),
      ).toBe(ErrorCode.BAD_REFERENCE);
    },
    lifecycle,
  ),
};

/** Unread rules every adapter follows, lifecycle or not. */
export const unreadChecks = {
  lateMemberSeesNoOldUnread: defineCheck(
    'unread',
    'a member added to a group with existing messages sees 0 unread for the messages from before they joined',
    async ({ adapter }) => {
      const { service } = lifecycleService(adapter);
      await adapter.accounts.createUser({
        id: 'u_late_a',
        username: 'late_a',
        displayName: 'A',
        passwordHash: null,
        createdAt: 1,
      });
      await adapter.accounts.createUser({
        id: 'u_late_b',
        username: 'late_b',
        displayName: 'B',
        passwordHash: null,
        createdAt: 1,
      });
      await adapter.accounts.createUser({
        id: 'u_late_c',
        username: 'late_c',
        displayName: 'C',
        passwordHash: null,
        createdAt: 1,
      });
      const group = await service.createGroup('u_late_a', 'team', ['u_late_b']);
      for (let i = 0; i < 3; i++) {
        await service.sendMessage('u_late_a', {
          channelId: group.id,
          clientMsgId: `old${i}`,
          text: `old ${i}`,
        });
      }
      await service.addMembers('u_late_b', group.id, ['u_late_c']);
      const late = (await service.listChannels('u_late_c')).find((c) => c.id === group.id);
      expect(late?.unread).toBe(0);
      await service.sendMessage('u_late_a', { channelId: group.id, clientMsgId: 'new', text: 'new' });
      expect((await service.listChannels('u_late_c')).find((c) => c.id === group.id)?.unread).toBe(1);
      expect((await service.listChannels('u_late_b')).find((c) => c.id === group.id)?.unread).toBe(4);
    },
  ),

  readMarkerIsClamped: defineCheck(
    'unread',
    "a read marker past the channel's last message is clamped to it, so the next message counts as 1 unread",
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service } = lifecycleService(adapter);
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k1', text: 'one' });
      expect(await service.markRead('u_alice', 'c1', 1_000)).toEqual({ readSeq: 1, unread: 0 });
      expect((await adapter.chat.getMember('c1', 'u_alice'))?.readSeq).toBe(1);
      await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k2', text: 'two' });
      expect((await service.listChannels('u_alice'))[0]?.unread).toBe(1);
    },
  ),
};
