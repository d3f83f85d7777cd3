import type { Message } from '@natter/protocol';
import type { StorageAdapter } from '@natter/server-core';
import { expect } from 'vitest';
import { appendMany, createChannel } from '../fixtures.js';
import { defineCheck } from '../harness.js';

/**
 * Two channels whose seqs and members overlap only in part: `c_big` has seqs 1..8 and members alice and
 * bob, `c_small` has seqs 1..3 and members alice and carol. Every read addressed to `c_small` must answer
 * from `c_small` alone, even with a seq (4..8) or a member (bob) that exists only in `c_big`.
 */
async function twoChannels(adapter: StorageAdapter): Promise<{ big: Message[]; small: Message[] }> {
  await createChannel(adapter, 'c_big', ['u_alice', 'u_bob']);
  await createChannel(adapter, 'c_small', ['u_alice', 'u_carol']);
  const mention = () => ({ mentions: ['u_alice'] });
  const big = await appendMany(adapter, 'c_big', 'u_bob', ['u_alice', 'u_bob'], 8, mention);
  const small = await appendMany(adapter, 'c_small', 'u_carol', ['u_alice', 'u_carol'], 3, mention);
  return { big: big.map((a) => a.message), small: small.map((a) => a.message) };
}

const idsOf = (messages: readonly Message[]) => messages.map((m) => m.id);
const onlyIn = (channelId: string) => (m: Message) => m.channelId === channelId;

/** No read addressed to one channel ever returns another channel's rows. */
export const isolationChecks = {
  channelReads: defineCheck(
    'isolation',
    "no channel read returns another channel's messages or members, even for seqs and users only the other has",
    async ({ adapter }) => {
      const { small } = await twoChannels(adapter);
      const { chat } = adapter;
      for (const seq of [4, 5, 8])
        expect(await chat.getMessage('c_small', seq), `seq ${seq}`).toBeUndefined();
      expect((await chat.getMessage('c_small', 2))?.channelId).toBe('c_small');
      for (const query of [
        { limit: 50, minSeq: 0 },
        { around: 6, limit: 50, minSeq: 0 },
        { before: 8, limit: 50, minSeq: 0 },
        { after: 0, limit: 50, minSeq: 0 },
        { after: 2, limit: 50, minSeq: 0 },
      ]) {
        const page = await chat.readHistory('c_small', query);
        expect(page.messages.every(onlyIn('c_small')), JSON.stringify(query)).toBe(true);
      }
      expect(idsOf((await chat.readHistory('c_small', { limit: 50, minSeq: 0 })).messages)).toEqual(
        idsOf(small),
      );
      expect((await chat.readHistory('c_small', { after: 3, limit: 50, minSeq: 0 })).messages).toEqual([]);
      expect(await chat.getMember('c_small', 'u_bob')).toBeUndefined();
      expect((await chat.listMembers('c_small')).map((m) => m.userId).sort()).toEqual(['u_alice', 'u_carol']);
      expect(await chat.countUnread('c_small', 'u_alice', 0)).toBe(3);
      expect(await chat.countUnread('c_small', 'u_alice', 3)).toBe(0);
      expect((await chat.getChannel('c_small'))?.lastSeq).toBe(3);
    },
  ),

  crossChannelQueries: defineCheck(
    'isolation',
    'mentions and search narrowed to one channel never return rows of another',
    async ({ adapter }) => {
      const { small } = await twoChannels(adapter);
      const { chat } = adapter;
      const mentions = await chat.mentionsOf({ userId: 'u_alice', limit: 50, channelId: 'c_small' });
      expect(idsOf(mentions).sort()).toEqual(idsOf(small).sort());
      if (chat.searchMessages) {
        const found = await chat.searchMessages({
          userId: 'u_alice',
          text: 'text',
          limit: 50,
          channelId: 'c_small',
        });
        expect(found.every(onlyIn('c_small'))).toBe(true);
        expect(found).toHaveLength(3);
      }
      // A member of one channel only: the other channel's rows stay invisible.
      expect(await chat.mentionsOf({ userId: 'u_carol', limit: 50, channelId: 'c_big' })).toEqual([]);
    },
  ),
};
