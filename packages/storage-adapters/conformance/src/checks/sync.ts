import { expect } from 'vitest';
import {
  append,
  createChannel,
  readMessageLog,
  readWholeSync,
  systemMessage,
  textMessage,
} from '../fixtures.js';
import { defineCheck } from '../harness.js';

/** The per-user sync log and unread counts. */
export const syncChecks = {
  readSyncPaging: defineCheck(
    'sync log',
    'readSync returns exactly the entries after the cursor, ascending, and pages without gaps',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      await createChannel(adapter, 'c2', ['u_alice']);
      await createChannel(adapter, 'c3', ['u_alice', 'u_bob']);
      const sent = [];
      for (let i = 0; i < 25; i++) {
        const channelId = ['c1', 'c2', 'c3'][i % 3]!;
        const recipients = channelId === 'c2' ? ['u_alice'] : ['u_alice', 'u_bob'];
        sent.push((await append(adapter, textMessage(channelId, 'u_alice'), recipients)).message);
      }
      const all = await adapter.chat.readSync('u_alice', 0, 1_000);
      expect(all).toEqual(sent.map((message, i) => ({ pos: i + 1, kind: 'message', message })));
      expect(await adapter.chat.readSync('u_alice', 10, 5)).toEqual(all.slice(10, 15));
      expect(await adapter.chat.readSync('u_alice', 24, 5)).toEqual(all.slice(24));
      expect(await adapter.chat.readSync('u_alice', 25, 5)).toEqual([]);
      expect(await adapter.chat.readSync('u_alice', 99, 5)).toEqual([]);
      expect(await readWholeSync(adapter, 'u_alice', 7)).toEqual(all);

      const bobs = await readMessageLog(adapter, 'u_bob', 0, 1_000);
      expect(bobs.map((e) => e.pos)).toEqual(Array.from({ length: bobs.length }, (_, i) => i + 1));
      expect(bobs.map((e) => e.message)).toEqual(sent.filter((m) => m.channelId !== 'c2'));
      expect(await adapter.chat.syncHead('u_bob')).toBe(bobs.length);
      expect(await adapter.chat.readSync('u_nobody', 0, 10)).toEqual([]);
    },
  ),

  countUnread: defineCheck(
    'sync log',
    "countUnread counts text messages after the marker, not the user's own nor system messages",
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      const everyone = ['u_alice', 'u_bob'];
      await append(adapter, textMessage('c1', 'u_alice'), everyone); // 1
      await append(adapter, textMessage('c1', 'u_bob'), everyone); // 2
      await append(
        adapter,
        systemMessage('c1', { action: 'renamed', actorId: 'u_bob', name: 'x' }),
        everyone,
      ); // 3
      await append(adapter, textMessage('c1', 'u_bob'), everyone); // 4
      await append(adapter, textMessage('c1', 'u_alice'), everyone); // 5
      expect(await adapter.chat.countUnread('c1', 'u_alice', 0)).toBe(2);
      expect(await adapter.chat.countUnread('c1', 'u_alice', 2)).toBe(1);
      expect(await adapter.chat.countUnread('c1', 'u_alice', 4)).toBe(0);
      expect(await adapter.chat.countUnread('c1', 'u_bob', 0)).toBe(2);
      expect(await adapter.chat.countUnread('c1', 'u_bob', 1)).toBe(1);
      expect(await adapter.chat.countUnread('c1', 'u_carol', 0)).toBe(4);
      expect(await adapter.chat.countUnread('c_unknown', 'u_alice', 0)).toBe(0);
    },
  ),
};
