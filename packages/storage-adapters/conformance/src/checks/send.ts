import { DEFAULT_LIMITS, ErrorCode, type MessageEntry } from '@natter/protocol';
import type { Delivery, StorageAdapter } from '@natter/server-core';
import { ChatService, type SendResult } from '@natter/server-core/internals';
import { expect } from 'vitest';
import { createChannel, readWholeSync, seededRandom } from '../fixtures.js';
import { defineCheck } from '../harness.js';

/**
 * The send rules, run through the core's `ChatService.sendMessage` on the adapter under test: on an
 * adapter with `WriteTransaction.appendChecked` they hold its one-step send to the contract of the
 * core's own path (`findByClientMsgId`, `listMembers`, `appendMessage`), which every other adapter runs.
 */

/** A chat service over the adapter, recording what it hands to live delivery. */
function chatService(adapter: StorageAdapter): { service: ChatService; deliveries: Delivery[] } {
  const deliveries: Delivery[] = [];
  const service = new ChatService({
    chat: adapter.chat,
    accounts: adapter.accounts,
    limits: DEFAULT_LIMITS,
    sink: { deliver: (batch) => deliveries.push(...batch) },
  });
  return { service, deliveries };
}

/** The store's counters a refused or repeated send must leave alone. */
async function counters(adapter: StorageAdapter, channelId: string, users: readonly string[]) {
  return {
    lastSeq: (await adapter.chat.getChannel(channelId))?.lastSeq,
    heads: await Promise.all(users.map((u) => adapter.chat.syncHead(u))),
  };
}

/** Rejects with the NatterError code of `promise`'s rejection (or fails when it resolves). */
async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  const error: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  return (error as { code?: unknown }).code;
}

const MEMBERS = ['u_alice', 'u_bob', 'u_carol'];

/** Sends through ChatService. */
export const sendChecks = {
  sendStoresAndAcks: defineCheck(
    'send (ChatService)',
    "a send stores a text message with one sync entry per member and acks the sender's entry",
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service, deliveries } = chatService(adapter);
      const result = await service.sendMessage('u_bob', {
        channelId: 'c1',
        clientMsgId: 'k1',
        text: 'hi all',
      });
      const { message } = result.entry;
      expect(result.duplicate).toBe(false);
      expect(message).toMatchObject({
        channelId: 'c1',
        seq: 1,
        senderId: 'u_bob',
        clientMsgId: 'k1',
        kind: 'text',
        text: 'hi all',
        mentions: [],
        system: null,
      });
      expect(result.entry.pos).toBe(1);
      expect(await adapter.chat.getMessage('c1', 1)).toEqual(message);
      for (const userId of MEMBERS) {
        expect(await adapter.chat.readSync(userId, 0, 10), `log of ${userId}`).toEqual([
          { pos: 1, kind: 'message', message },
        ]);
      }
      // Every member once, with its position, in any order.
      expect(
        deliveries
          .map((d) => [d.userId, d.entry.pos, d.entry.kind === 'message' && d.entry.message.id])
          .sort(),
      ).toEqual(MEMBERS.map((u) => [u, 1, message.id]).sort());
    },
  ),

  sendRetried: defineCheck(
    'send (ChatService)',
    'a retried send returns the original entry and stores nothing, also after the sender left; keys are per sender',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service, deliveries } = chatService(adapter);
      await service.sendMessage('u_alice', { channelId: 'c1', clientMsgId: 'k0', text: 'first' });
      const original = await service.sendMessage('u_bob', {
        channelId: 'c1',
        clientMsgId: 'k1',
        text: 'hello',
      });
      const before = await counters(adapter, 'c1', MEMBERS);
      const delivered = deliveries.length;

      // A rejection is a failed expectation too: the retry must resolve to the original.
      const retry = service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k1', text: 'changed' });
      await expect(retry, 'the retry').resolves.toEqual({ entry: original.entry, duplicate: true });
      expect((await retry).entry.message.text).toBe('hello');
      expect(await counters(adapter, 'c1', MEMBERS)).toEqual(before);
      expect(deliveries).toHaveLength(delivered);

      // The key is the sender's: another member's k1 is a new message.
      const other = await service.sendMessage('u_carol', {
        channelId: 'c1',
        clientMsgId: 'k1',
        text: 'mine',
      });
      expect(other.duplicate).toBe(false);
      expect(other.entry.message.seq).toBe(3);

      // A retry after the sender left still answers with the original (the message exists).
      await adapter.chat.write((tx) => tx.deleteMember('c1', 'u_bob'));
      const late = await service.sendMessage('u_bob', { channelId: 'c1', clientMsgId: 'k1', text: 'again' });
      expect(late).toEqual({ entry: original.entry, duplicate: true });
      expect((await adapter.chat.getChannel('c1'))?.lastSeq).toBe(3);
    },
  ),

  sendRefused: defineCheck(
    'send (ChatService)',
    "a non-member's send and a send to a missing channel are NOT_FOUND and store nothing",
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      const { service, deliveries } = chatService(adapter);
      const users = [...MEMBERS, 'u_mallory'];
      const before = await counters(adapter, 'c1', users);
      const send = (userId: string, channelId: string) =>
        service.sendMessage(userId, { channelId, clientMsgId: 'k1', text: 'let me in' });
      expect(await codeOf(send('u_mallory', 'c1'))).toBe(ErrorCode.NOT_FOUND);
      expect(await codeOf(send('u_alice', 'c_missing'))).toBe(ErrorCode.NOT_FOUND);
      expect(await counters(adapter, 'c1', users)).toEqual(before);
      expect(await adapter.chat.getChannel('c_missing')).toBeUndefined();
      expect(deliveries).toEqual([]);

      // Nothing was kept of the refused sends: the same keys send normally once allowed.
      await adapter.chat.write((tx) =>
        tx.upsertMember({
          channelId: 'c1',
          userId: 'u_mallory',
          role: 'member',
          joinedAt: 1,
          joinedSeq: 1,
          readSeq: 0,
          deliveredSeq: 0,
        }),
      );
      const joined = await send('u_mallory', 'c1');
      expect(joined.duplicate).toBe(false);
      expect(joined.entry.message.seq).toBe(1);
      const alice = await send('u_alice', 'c1');
      expect(alice.duplicate).toBe(false);
      expect(alice.entry.message.seq).toBe(2);
    },
  ),

  sendMentions: defineCheck(
    'send (ChatService)',
    'a send keeps the mentions of members only, each once, in the order given',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', MEMBERS);
      await createChannel(adapter, 'c2', ['u_alice', 'u_dave']);
      const { service } = chatService(adapter);
      const { entry } = await service.sendMessage('u_alice', {
        channelId: 'c1',
        clientMsgId: 'k1',
        text: 'ping',
        mentions: ['u_carol', 'u_dave', 'u_nobody', 'u_bob', 'u_carol', 'u_alice'],
      });
      expect(entry.message.mentions).toEqual(['u_carol', 'u_bob', 'u_alice']);
      expect(await adapter.chat.getMessage('c1', 1)).toEqual(entry.message);
      const mentioned = (userId: string) => adapter.chat.mentionsOf({ userId, limit: 10 });
      expect(await mentioned('u_carol')).toEqual([entry.message]);
      expect(await mentioned('u_bob')).toEqual([entry.message]);
      expect(await mentioned('u_dave')).toEqual([]);
      expect(await mentioned('u_nobody')).toEqual([]);
    },
  ),

  concurrentSends: defineCheck(
    'send (ChatService)',
    "concurrent sends keep seqs and positions gap-free, each ack matches the sender's log, and a retry racing its original is its duplicate",
    async ({ adapter, scale }) => {
      const random = seededRandom(19);
      const users = Array.from({ length: 8 }, (_, i) => `u_${i}`);
      const channels = Array.from({ length: 6 }, (_, i) => ({
        id: `c_${i}`,
        members: [...new Set([users[i]!, users[(i + 1) % 8]!, users[(i + 3) % 8]!, users[(i + 4) % 8]!])],
      }));
      for (const c of channels) await createChannel(adapter, c.id, c.members);
      const { service } = chatService(adapter);

      interface Planned {
        userId: string;
        channelId: string;
        clientMsgId: string;
        member: boolean;
      }
      const plans: Planned[] = [];
      for (let i = 0; plans.length < Math.min(scale.writes, 240); i++) {
        const channel = channels[Math.floor(random() * channels.length)]!;
        const r = random();
        if (r < 0.05) {
          // A stranger: refused, with no effect on the others.
          const stranger = users.find((u) => !channel.members.includes(u))!;
          plans.push({ userId: stranger, channelId: channel.id, clientMsgId: `s${i}`, member: false });
          continue;
        }
        const userId = channel.members[Math.floor(random() * channel.members.length)]!;
        const plan = { userId, channelId: channel.id, clientMsgId: `k${i}`, member: true };
        plans.push(plan);
        // A retry of the same send fired right behind it, before either is acknowledged.
        if (r > 0.85) plans.push({ ...plan });
      }

      const results = await Promise.allSettled(
        plans.map((p) =>
          service.sendMessage(p.userId, {
            channelId: p.channelId,
            clientMsgId: p.clientMsgId,
            text: p.clientMsgId,
          }),
        ),
      );
      const byKey = new Map<string, SendResult[]>();
      results.forEach((result, i) => {
        const plan = plans[i]!;
        if (!plan.member) {
          expect(result.status, `send ${i} by a stranger`).toBe('rejected');
          expect((result as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.NOT_FOUND });
          return;
        }
        if (result.status === 'rejected') throw result.reason;
        const key = `${plan.userId} ${plan.clientMsgId}`;
        byKey.set(key, [...(byKey.get(key) ?? []), result.value]);
      });

      // One message per key: the first call stored it, a racing retry got it as a duplicate.
      const stored: Array<{ entry: MessageEntry; userId: string }> = [];
      for (const [key, sends] of byKey) {
        expect(
          sends.map((s) => s.duplicate),
          `sends of ${key}`,
        ).toEqual(sends.map((_, i) => i > 0));
        for (const s of sends.slice(1)) expect(s.entry, `retry of ${key}`).toEqual(sends[0]!.entry);
        stored.push({ entry: sends[0]!.entry, userId: key.split(' ')[0]! });
      }

      // Channels hold exactly the stored messages, at seq 1..k.
      for (const channel of channels) {
        const mine = stored.map((s) => s.entry.message).filter((m) => m.channelId === channel.id);
        const bySeq = new Map(mine.map((m) => [m.seq, m]));
        expect(
          [...bySeq.keys()].sort((a, b) => a - b),
          `seqs of ${channel.id}`,
        ).toEqual(Array.from({ length: mine.length }, (_, i) => i + 1));
        const page = await adapter.chat.readHistory(channel.id, { after: 0, limit: 1000, minSeq: 0 });
        expect(page.messages, `history of ${channel.id}`).toEqual(
          [...bySeq.values()].sort((a, b) => a.seq - b.seq),
        );
      }

      // Every member's log holds one entry per stored message of their channels, at pos 1..m, in each
      // channel's seq order; each sender's ack is their entry.
      const ackAt = new Map(stored.map((s) => [`${s.userId} ${s.entry.message.id}`, s.entry.pos]));
      for (const userId of users) {
        const log = await readWholeSync(adapter, userId, 25);
        const expected = stored.filter((s) =>
          channels.find((c) => c.id === s.entry.message.channelId)!.members.includes(userId),
        );
        expect(
          log.map((e) => e.pos),
          `positions of ${userId}`,
        ).toEqual(Array.from({ length: expected.length }, (_, i) => i + 1));
        expect(new Set(log.map((e) => e.message.id)), `messages in ${userId}'s log`).toEqual(
          new Set(expected.map((s) => s.entry.message.id)),
        );
        const lastSeq = new Map<string, number>();
        for (const { pos, message } of log) {
          expect(message.seq, `order of ${message.channelId} in ${userId}'s log`).toBeGreaterThan(
            lastSeq.get(message.channelId) ?? 0,
          );
          lastSeq.set(message.channelId, message.seq);
          const acked = ackAt.get(`${userId} ${message.id}`);
          if (acked !== undefined) expect(acked, `ack of ${message.id}`).toBe(pos);
        }
      }
    },
  ),
};
