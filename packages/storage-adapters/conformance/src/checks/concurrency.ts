import type { Message } from '@natter/protocol';
import type { AppendedMessage, NewMessage, StorageAdapter } from '@natter/server-core';
import { expect } from 'vitest';
import { createChannel, readWholeSync, seededRandom, textMessage, yieldTurn } from '../fixtures.js';
import { defineCheck } from '../harness.js';

class Planned extends Error {}

const USERS = Array.from({ length: 10 }, (_, i) => `u_${i}`);

/** Members of the i-th channel of the concurrency checks: three of ten users, overlapping. */
const membersOf = (i: number) => [...new Set([USERS[i % 10]!, USERS[(i + 1) % 10]!, USERS[(i + 3) % 10]!])];

async function createChannels(adapter: StorageAdapter, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `c_${i}`);
  for (const [i, id] of ids.entries()) await createChannel(adapter, id, membersOf(i));
  return ids;
}

/** Sometimes gives other writes a chance to interleave with this one (a microtask or a macrotask). */
async function jitter(random: () => number): Promise<void> {
  const r = random();
  if (r < 0.05) await yieldTurn();
  else if (r < 0.5) await Promise.resolve();
}

interface PlannedWrite {
  appends: Array<{ message: NewMessage; recipients: string[] }>;
  fails: boolean;
}

/** Append concurrency: the commit-order guarantees the sync protocol is built on. */
export const concurrencyChecks = {
  concurrentAppends: defineCheck(
    'concurrency',
    "concurrent writes across channels keep each channel's seq and each user's pos gap-free; failed writes consume nothing",
    async ({ adapter, scale }) => {
      const random = seededRandom(42);
      const channels = await createChannels(adapter, scale.channels);
      const pick = () => Math.floor(random() * channels.length);
      const plans: PlannedWrite[] = Array.from({ length: scale.writes }, () => {
        const r = random();
        const first = pick();
        const targets = r < 0.1 ? [first, pick()] : [first];
        const appends = targets.map((i) => {
          const recipients = membersOf(i);
          const sender = recipients[Math.floor(random() * recipients.length)]!;
          return {
            message: textMessage(channels[i]!, sender, { clientMsgId: `cm-${random()}` }),
            recipients,
          };
        });
        return { appends, fails: r > 0.92 };
      });

      const results = await Promise.allSettled(
        plans.map((plan) =>
          adapter.chat.write(
            async (tx) => {
              const appended: AppendedMessage[] = [];
              for (const { message, recipients } of plan.appends) {
                await jitter(random);
                appended.push(await tx.appendMessage(message, recipients));
              }
              await jitter(random);
              if (plan.fails) throw new Planned('planned failure');
              return appended;
            },
            { channelId: plan.appends[0]!.message.channelId },
          ),
        ),
      );

      const committed: AppendedMessage[] = [];
      const doomedIds = new Set<string>();
      results.forEach((result, i) => {
        const plan = plans[i]!;
        if (plan.fails) {
          expect(result.status, `write ${i} was planned to fail`).toBe('rejected');
          expect((result as PromiseRejectedResult).reason).toBeInstanceOf(Planned);
          for (const { message } of plan.appends) doomedIds.add(message.id);
        } else {
          if (result.status === 'rejected') throw result.reason;
          committed.push(...result.value);
        }
      });

      // Every channel holds exactly the committed messages, at seq 1..k.
      const byChannel = new Map<string, Map<number, Message>>(channels.map((id) => [id, new Map()]));
      for (const { message } of committed) byChannel.get(message.channelId)!.set(message.seq, message);
      for (const [channelId, bySeq] of byChannel) {
        const k = bySeq.size;
        expect(
          [...bySeq.keys()].sort((a, b) => a - b),
          `seqs of ${channelId}`,
        ).toEqual(range(k));
        expect((await adapter.chat.getChannel(channelId))?.lastSeq, `lastSeq of ${channelId}`).toBe(k);
        const page = await adapter.chat.readHistory(channelId, { after: 0, limit: k + 10, minSeq: 0 });
        expect(page.messages, `history of ${channelId}`).toEqual(range(k).map((seq) => bySeq.get(seq)));
        for (const message of page.messages) expect(doomedIds.has(message.id)).toBe(false);
      }

      // Every user's log holds exactly the committed messages sent to them, at pos 1..m.
      const expectedPos = new Map<string, number>(); // `${userId} ${messageId}` -> pos
      for (const { message, positions } of committed) {
        for (const { userId, pos } of positions) expectedPos.set(`${userId} ${message.id}`, pos);
      }
      for (const userId of USERS) {
        const entries = await readWholeSync(adapter, userId, 37);
        const mine = committed.filter((c) => c.positions.some((p) => p.userId === userId));
        expect(await adapter.chat.syncHead(userId), `syncHead of ${userId}`).toBe(mine.length);
        expect(
          entries.map((e) => e.pos),
          `positions of ${userId}`,
        ).toEqual(range(mine.length));
        const lastSeqSeen = new Map<string, number>();
        for (const entry of entries) {
          const { message } = entry;
          expect(message, `entry ${entry.pos} of ${userId}`).toEqual(
            byChannel.get(message.channelId)?.get(message.seq),
          );
          expect(expectedPos.get(`${userId} ${message.id}`), `pos returned for ${message.id}`).toBe(
            entry.pos,
          );
          // Commit order per channel: a later seq never precedes an earlier one in anyone's log.
          expect(message.seq, `order of ${message.channelId} in ${userId}'s log`).toBeGreaterThan(
            lastSeqSeen.get(message.channelId) ?? 0,
          );
          lastSeqSeen.set(message.channelId, message.seq);
        }
      }
    },
  ),

  callOrderPerChannel: defineCheck(
    'concurrency',
    'concurrent writes to one channel are applied in call order',
    async ({ adapter }) => {
      const random = seededRandom(7);
      const channels = await createChannels(adapter, 3);
      const calls = Array.from({ length: 90 }, (_, i) => channels[i % 3]!);
      const seqs = await Promise.all(
        calls.map((channelId, i) =>
          adapter.chat.write(
            async (tx) => {
              await jitter(random);
              const { message } = await tx.appendMessage(textMessage(channelId, 'u_0'), []);
              return message.seq;
            },
            // Half the calls carry no hint: ordering must not depend on it.
            i % 2 === 0 ? { channelId } : undefined,
          ),
        ),
      );
      for (const channelId of channels) {
        const mine = seqs.filter((_, i) => calls[i] === channelId);
        expect(mine, `seqs of ${channelId} in call order`).toEqual(range(30));
      }
    },
  ),
};

/** `[1, 2, ..., n]`. */
function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
