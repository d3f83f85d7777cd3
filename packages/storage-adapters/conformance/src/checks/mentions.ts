import type { Message } from '@natter/protocol';
import type { MessageQuery, StorageAdapter } from '@natter/server-core';
import { expect } from 'vitest';
import { append, createChannel, memberRecord, systemMessage, textMessage } from '../fixtures.js';
import { defineCheck } from '../harness.js';

/** The ids `mentionsOf` returns, for compact comparisons. */
async function mentionIds(adapter: StorageAdapter, query: MessageQuery): Promise<string[]> {
  return (await adapter.chat.mentionsOf(query)).map((m) => m.id);
}

/** Appends a text message mentioning `mentions`, sent to every id in `recipients`. */
async function mention(
  adapter: StorageAdapter,
  channelId: string,
  senderId: string,
  mentions: string[],
  recipients: string[],
): Promise<Message> {
  return (await append(adapter, textMessage(channelId, senderId, { mentions }), recipients)).message;
}

/** `mentionsOf`: the mentions index and what a reader may see of it. */
export const mentionChecks = {
  mentionsNewestFirst: defineCheck(
    'mentions',
    'mentionsOf returns the text messages mentioning the user, newest id first, paged by beforeId and limit',
    async ({ adapter }) => {
      const c1 = ['u_alice', 'u_bob'];
      const c2 = ['u_alice', 'u_carol'];
      await createChannel(adapter, 'c1', c1);
      await createChannel(adapter, 'c2', c2);
      const m1 = await mention(adapter, 'c1', 'u_bob', ['u_alice'], c1);
      const m2 = await mention(adapter, 'c2', 'u_carol', ['u_alice', 'u_carol'], c2);
      await mention(adapter, 'c1', 'u_bob', [], c1);
      const m4 = await mention(adapter, 'c1', 'u_bob', ['u_bob'], c1);
      // A user mentioned twice in one message is one result; the message keeps its mentions as sent.
      const m5 = await mention(adapter, 'c2', 'u_carol', ['u_alice', 'u_alice'], c2);
      // System messages are not mentions, whatever their `mentions` say.
      await append(
        adapter,
        systemMessage('c1', { action: 'renamed', actorId: 'u_bob', name: 'x' }, { mentions: ['u_alice'] }),
        c1,
      );
      const m7 = await mention(adapter, 'c1', 'u_alice', ['u_alice'], c1);

      const all = await adapter.chat.mentionsOf({ userId: 'u_alice', limit: 10 });
      expect(all).toEqual([m7, m5, m2, m1]);
      expect(m5.mentions).toEqual(['u_alice', 'u_alice']);
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 2 })).toEqual([m7.id, m5.id]);
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 2, beforeId: m5.id })).toEqual([
        m2.id,
        m1.id,
      ]);
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 2, beforeId: m1.id })).toEqual([]);
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 10, channelId: 'c2' })).toEqual([
        m5.id,
        m2.id,
      ]);
      expect(
        await mentionIds(adapter, { userId: 'u_alice', limit: 10, channelId: 'c1', beforeId: m7.id }),
      ).toEqual([m1.id]);
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 10, channelId: 'c_unknown' })).toEqual([]);
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 0 })).toEqual([]);
      expect(await mentionIds(adapter, { userId: 'u_bob', limit: 10 })).toEqual([m4.id]);
      expect(await mentionIds(adapter, { userId: 'u_carol', limit: 10 })).toEqual([m2.id]);
      expect(await mentionIds(adapter, { userId: 'u_nobody', limit: 10 })).toEqual([]);
    },
  ),

  mentionsVisibility: defineCheck(
    'mentions',
    'mentionsOf hides channels the reader is not in, messages from before they joined, and all of a channel after removal',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      await createChannel(adapter, 'c_others', ['u_bob', 'u_carol']);
      // Mentioned in a channel they are not a member of: never visible.
      await mention(adapter, 'c_others', 'u_bob', ['u_alice'], ['u_bob', 'u_carol']);

      // Dave is mentioned at seq 1 and 2 and joins at seq 3: he sees only what came from seq 3 on.
      await mention(adapter, 'c1', 'u_bob', ['u_dave'], ['u_alice', 'u_bob']);
      await mention(adapter, 'c1', 'u_bob', ['u_dave', 'u_alice'], ['u_alice', 'u_bob']);
      await adapter.chat.write(async (tx) => {
        await tx.upsertMember(memberRecord('c1', 'u_dave', { joinedSeq: 3 }));
        await tx.appendMessage(
          systemMessage('c1', { action: 'members_added', actorId: 'u_bob', memberIds: ['u_dave'] }),
          ['u_alice', 'u_bob', 'u_dave'],
        );
      });
      const seen = await mention(
        adapter,
        'c1',
        'u_bob',
        ['u_dave', 'u_alice'],
        ['u_alice', 'u_bob', 'u_dave'],
      );
      expect(await mentionIds(adapter, { userId: 'u_dave', limit: 10 })).toEqual([seen.id]);
      expect((await mentionIds(adapter, { userId: 'u_alice', limit: 10 })).length).toBe(2);
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 10, channelId: 'c_others' })).toEqual([]);

      // Removed: nothing of the channel is visible any more, not even what they saw before.
      await adapter.chat.write((tx) => tx.deleteMember('c1', 'u_alice'));
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 10 })).toEqual([]);
      expect(await mentionIds(adapter, { userId: 'u_alice', limit: 10, channelId: 'c1' })).toEqual([]);

      // Mentioned while out, then re-added at seq 7: only seq 7 on is visible.
      await mention(adapter, 'c1', 'u_bob', ['u_alice'], ['u_bob', 'u_dave']); // seq 5
      await mention(adapter, 'c1', 'u_bob', ['u_alice'], ['u_bob', 'u_dave']); // seq 6
      await adapter.chat.write((tx) => tx.upsertMember(memberRecord('c1', 'u_alice', { joinedSeq: 7 })));
      const back = await mention(adapter, 'c1', 'u_bob', ['u_alice'], ['u_alice', 'u_bob', 'u_dave']);
      expect(back.seq).toBe(7);
      expect(await adapter.chat.mentionsOf({ userId: 'u_alice', limit: 10 })).toEqual([back]);
    },
  ),
};
