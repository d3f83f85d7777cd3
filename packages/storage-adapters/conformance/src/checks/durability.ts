import type { StorageAdapter } from '@natter/server-core';
import { expect } from 'vitest';
import {
  append,
  appendMany,
  createChannel,
  readWholeSync,
  refreshToken,
  textMessage,
  userRecord,
} from '../fixtures.js';
import { defineCheck } from '../harness.js';

/** Everything readable about the data the durability checks write. */
async function observe(adapter: StorageAdapter) {
  const { chat, accounts } = adapter;
  return {
    epoch: chat.epoch(),
    alice: await accounts.getUser('u_alice'),
    bobByName: await accounts.findUserByUsername('bob'),
    search: await accounts.searchUsers('', 10),
    channel: await chat.getChannel('c1'),
    direct: await chat.getChannel('c_direct'),
    members: (await chat.listMembers('c1')).sort((a, b) => (a.userId < b.userId ? -1 : 1)),
    channelsOfAlice: await chat.listChannelsOf('u_alice'),
    history: await chat.readHistory('c1', { limit: 100, minSeq: 0 }),
    aliceSync: await readWholeSync(adapter, 'u_alice'),
    bobHead: await chat.syncHead('u_bob'),
    unread: await chat.countUnread('c1', 'u_bob', 0),
    byKey: await chat.write((tx) => tx.findByClientMsgId('u_alice', 'cm-3')),
    bobMentions: await chat.mentionsOf({ userId: 'u_bob', limit: 100 }),
    messageSearch: adapter.manifest.capabilities.search
      ? await chat.searchMessages?.({ userId: 'u_bob', limit: 100, text: 'durable' })
      : undefined,
  };
}

/** Persistence across close and reopen; run only for stores that declare `persistent`. */
export const durabilityChecks = {
  reopenKeepsEverything: defineCheck(
    'durability',
    'everything written before close is readable after reopen, with the same epoch',
    async ({ adapter, reopen }) => {
      await adapter.accounts.createUser(userRecord('alice'));
      await adapter.accounts.createUser(userRecord('bob'));
      await adapter.accounts.saveRefreshToken(refreshToken('h1', 'u_alice', 'd1', 10_000));
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob'], { createdAt: 1_000 });
      await createChannel(adapter, 'c_direct', ['u_alice', 'u_bob'], {
        kind: 'direct',
        name: null,
        directKey: 'u_alice|u_bob',
        createdAt: 3_000,
      });
      await appendMany(adapter, 'c1', 'u_alice', ['u_alice', 'u_bob'], 5, (i) => ({
        clientMsgId: `cm-${i}`,
        createdAt: 4_000 + i,
        text: i % 2 === 0 ? `durable text ${i}` : `other text ${i}`,
        mentions: i < 2 ? ['u_bob'] : [],
      }));
      await adapter.chat.write(async (tx) => {
        await tx.raiseReadMarker('c1', 'u_bob', 3);
        await tx.raiseDeliveredMarker('c1', 'u_bob', 4);
      });
      const before = await observe(adapter);
      expect(before.bobMentions).toHaveLength(2);
      if (adapter.manifest.capabilities.search) expect(before.messageSearch).toHaveLength(3);

      const reopened = await reopen!();
      expect(await observe(reopened)).toEqual(before);
      expect(await reopened.accounts.takeRefreshToken('h1', 0)).toEqual(
        refreshToken('h1', 'u_alice', 'd1', 10_000),
      );
      expect(await reopened.chat.write((tx) => tx.findDirectChannel('u_alice|u_bob'))).toEqual(before.direct);
      expect(await reopened.chat.getMember('c1', 'u_bob')).toMatchObject({ readSeq: 3, deliveredSeq: 4 });
    },
    { needsReopen: true },
  ),

  reopenContinuesSequences: defineCheck(
    'durability',
    'appends after reopen continue the sequences, and acknowledged writes survive an immediate close',
    async ({ adapter, reopen }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      await createChannel(adapter, 'c2', ['u_alice']);
      const inFlight = Array.from({ length: 30 }, (_, i) =>
        append(
          adapter,
          textMessage(i % 3 === 0 ? 'c2' : 'c1', 'u_alice'),
          i % 3 === 0 ? ['u_alice'] : ['u_alice', 'u_bob'],
        ),
      );
      const acked = await Promise.all(inFlight);
      const reopened = await reopen!();
      for (const { message } of acked) {
        expect(await reopened.chat.getMessage(message.channelId, message.seq)).toEqual(message);
      }
      expect((await reopened.chat.getChannel('c1'))?.lastSeq).toBe(20);
      expect((await reopened.chat.getChannel('c2'))?.lastSeq).toBe(10);

      const next = await append(reopened, textMessage('c1', 'u_bob'), ['u_bob', 'u_alice']);
      expect(next.message.seq).toBe(21);
      expect(next.positions).toEqual([
        { userId: 'u_bob', pos: 21 },
        { userId: 'u_alice', pos: 31 },
      ]);
      const again = await reopen!();
      expect((await readWholeSync(again, 'u_alice')).map((e) => e.pos)).toEqual(
        Array.from({ length: 31 }, (_, i) => i + 1),
      );
      expect(await again.chat.getMessage('c1', 21)).toEqual(next.message);
    },
    { needsReopen: true },
  ),
};
