import { expect, it } from 'vitest';
import { buildPayload, buildReactionPayload } from '../../src/payload.js';
import type { OwedMessage, PushStore } from '../../src/store/push-store.js';

/** One push store for one test: `reopen` closes it and opens another over the same data. */
export interface StoreHarness {
  store: PushStore;
  reopen(): Promise<PushStore>;
  cleanup(): Promise<void>;
}

const COLLAPSE = { collapseMs: 30_000 };
const LEASE = 60_000;

const message = (seq: number, extra: Partial<OwedMessage> = {}): OwedMessage => ({
  userId: 'u_b',
  channelId: 'c1',
  seq,
  messageId: `m${seq}`,
  senderId: 'u_a',
  text: null,
  ...extra,
});

/**
 * The PushStore contract, run against every adapter (SQLite and PostgreSQL): the same behaviour whether
 * one process or a cluster of nodes shares the queue.
 */
export function pushStoreContract(create: () => Promise<StoreHarness>): void {
  const withStore = (title: string, run: (h: StoreHarness & { store: PushStore }) => Promise<void>) =>
    it(title, async () => {
      const harness = await create();
      let store = harness.store;
      await store.open(COLLAPSE);
      await store.putSubscription('u_b', 'phone', { kind: 'webhook', token: 't-phone' }, 0);
      try {
        await run({
          ...harness,
          get store() {
            return store;
          },
          reopen: async () => {
            store = await harness.reopen();
            await store.open(COLLAPSE);
            return store;
          },
        });
      } finally {
        await store.close();
        await harness.cleanup();
      }
    });

  withStore('keeps owed notifications, collapsed per user and channel, across a reopen', async (h) => {
    expect(await h.store.enqueue([message(1), message(2), message(3, { channelId: 'c2' })], 1_000)).toBe(3);
    await h.reopen();
    const due = await h.store.claimDuePending(1_000, 10, LEASE);
    expect(due.map((p) => [p.channelId, p.count, p.latestSeq, p.latestMessageId])).toEqual([
      ['c1', 2, 2, 'm2'],
      ['c2', 1, 3, 'm3'],
    ]);
  });

  withStore('records nothing for users with no registered device', async (h) => {
    expect(await h.store.enqueue([message(1, { userId: 'u_nobody' })], 1_000)).toBe(0);
    expect(await h.store.counts()).toEqual({ pending: 0, jobs: 0 });
  });

  withStore('counts an entry delivered twice once', async (h) => {
    await h.store.enqueue([message(1), message(2)], 1_000);
    await h.store.enqueue([message(2), message(1)], 1_001);
    expect((await h.store.claimDuePending(2_000, 10, LEASE))[0]).toMatchObject({ count: 2, latestSeq: 2 });
  });

  withStore('makes a channel notified within the collapse window due when the window ends', async (h) => {
    await h.store.enqueue([message(1)], 1_000);
    expect(await h.store.promote('u_b', 'c1', 1_000, (p) => buildPayload(p))).toEqual({
      kind: 'queued',
      jobs: 1,
    });
    await h.store.enqueue([message(2), message(3)], 5_000);
    expect(await h.store.claimDuePending(30_999, 10, LEASE)).toEqual([]);
    const [due] = await h.store.claimDuePending(31_000, 10, LEASE);
    expect(due).toMatchObject({ count: 2, latestSeq: 3, firstAt: 5_000 });
    // An entry the last notification already covered is not owed again.
    await h.store.enqueue([message(1)], 6_000);
    await h.store.dropPending('u_b', 'c1', 0); // releases the claim: newer messages are owed
    expect((await h.store.claimDuePending(31_000, 10, LEASE))[0]).toMatchObject({ count: 2 });
  });

  withStore('hands a due owed notification to one claimer until its lease ends', async (h) => {
    await h.store.enqueue([message(1)], 1_000);
    expect(await h.store.claimDuePending(1_000, 10, LEASE)).toHaveLength(1);
    expect(await h.store.claimDuePending(1_001, 10, LEASE)).toEqual([]);
    expect(await h.store.claimDuePending(1_000 + LEASE, 10, LEASE)).toHaveLength(1);
  });

  withStore('drops an owed notification, but releases it at once when a newer message joined', async (h) => {
    await h.store.enqueue([message(1)], 1_000);
    await h.store.claimDuePending(1_000, 10, LEASE);
    await h.store.enqueue([message(2)], 1_100);
    await h.store.dropPending('u_b', 'c1', 1);
    expect(await h.store.claimDuePending(1_200, 10, LEASE)).toMatchObject([{ latestSeq: 2, count: 2 }]);
    await h.store.dropPending('u_b', 'c1', 2);
    expect(await h.store.counts()).toEqual({ pending: 0, jobs: 0 });
  });

  withStore('drops a deleted message that was the only one owed, for every recipient', async (h) => {
    await h.store.putSubscription('u_c', 'tablet', { kind: 'webhook', token: 't-tablet' }, 0);
    await h.store.enqueue(
      [message(1), message(1, { userId: 'u_c' }), message(2, { channelId: 'c2' })],
      1_000,
    );
    await h.store.dropMessage('c1', 1, 'u_a');
    const due = await h.store.claimDuePending(1_000, 10, LEASE);
    expect(due.map((p) => [p.userId, p.channelId])).toEqual([['u_b', 'c2']]);
  });

  withStore(
    'takes a deleted message out of a collapsed notification: count down, a deleted newest takes its preview',
    async (h) => {
      const texts = (seq: number) => message(seq, { messageId: `m${seq}`, text: `t${seq}` });
      await h.store.enqueue([texts(1), texts(2), texts(3)], 1_000);
      await h.store.dropMessage('c1', 2, 'u_a');
      expect((await h.store.claimDuePending(1_000, 10, LEASE))[0]).toMatchObject({
        count: 2,
        latestSeq: 3,
        latestText: 't3',
      });
      await h.store.dropPending('u_b', 'c1', 0); // release the claim
      await h.store.dropMessage('c1', 3, 'u_a');
      const [left] = await h.store.claimDuePending(1_000, 10, LEASE);
      expect(left).toMatchObject({ count: 1, latestText: null });
      await h.store.dropPending('u_b', 'c1', 0);
      // The one left is seq 1: deleting it leaves nothing owed; seqs the notification never counted change nothing.
      await h.store.dropMessage('c1', 4, 'u_a');
      await h.store.dropMessage('c1', 1, 'u_b');
      expect(await h.store.counts()).toEqual({ pending: 1, jobs: 0 });
      await h.store.dropMessage('c1', 1, 'u_a');
      expect(await h.store.counts()).toEqual({ pending: 0, jobs: 0 });
    },
  );

  withStore('leaves alone a deleted message that was already notified', async (h) => {
    await h.store.enqueue([message(1)], 1_000);
    await h.store.promote('u_b', 'c1', 1_000, (p) => buildPayload(p));
    await h.store.enqueue([message(2)], 1_100);
    await h.store.dropMessage('c1', 1, 'u_a');
    expect(await h.store.counts()).toEqual({ pending: 1, jobs: 1 });
    expect((await h.store.claimDuePending(31_000, 10, LEASE))[0]).toMatchObject({ count: 1, latestSeq: 2 });
  });

  withStore(
    'queues a reaction notification per device, once per channel per collapse window, none when muted',
    async (h) => {
      const build = () =>
        buildReactionPayload({ channelId: 'c1', seq: 1, userId: 'u_a', emoji: '👍' }, false);
      expect(await h.store.queueReaction('u_b', 'c1', 1_000, build)).toBe(1);
      expect(await h.store.queueReaction('u_b', 'c1', 30_999, build)).toBe(0);
      expect(await h.store.queueReaction('u_b', 'c2', 2_000, build)).toBe(1);
      expect(await h.store.queueReaction('u_nobody', 'c1', 2_000, build)).toBe(0);
      const jobs = await h.store.claimDueJobs(2_000, 10, LEASE);
      expect(jobs.map((j) => [j.channelId, j.payload.type])).toEqual([
        ['c1', 'natter.reaction'],
        ['c2', 'natter.reaction'],
      ]);
      await h.store.setMuted('u_b', 'c1', true);
      expect(await h.store.queueReaction('u_b', 'c1', 31_000, build)).toBe(0);
      await h.store.setMuted('u_b', 'c1', false);
      expect(await h.store.queueReaction('u_b', 'c1', 31_000, build)).toBe(1);
    },
  );

  withStore('never hands out a finished job again, even after a reopen', async (h) => {
    await h.store.putSubscription('u_b', 'laptop', { kind: 'webhook', token: 't-laptop' }, 0);
    await h.store.enqueue([message(1)], 1_000);
    await h.store.promote('u_b', 'c1', 1_000, (p) => buildPayload(p));
    const jobs = await h.store.claimDueJobs(1_000, 10, LEASE);
    expect(jobs.map((j) => j.deviceId).sort()).toEqual(['laptop', 'phone']);
    expect(jobs[0]!.id).toBe(jobs[1]!.id); // one notification, one job per device
    const phone = jobs.find((j) => j.deviceId === 'phone')!;
    expect(await h.store.finishJob(phone, 'ok', 1_100, 1)).toBe(true);
    await h.reopen();
    expect((await h.store.claimDueJobs(1_000 + LEASE, 10, LEASE)).map((j) => j.deviceId)).toEqual(['laptop']);
    expect(await h.store.finishJob(phone, 'ok', 1_200, 1)).toBe(false);
  });

  withStore('retries a job at the time it names, and hands each claimed job to one claimer', async (h) => {
    await h.store.enqueue([message(1)], 1_000);
    await h.store.promote('u_b', 'c1', 1_000, (p) => buildPayload(p));
    const [job] = await h.store.claimDueJobs(1_000, 10, LEASE);
    expect(await h.store.claimDueJobs(1_000, 10, LEASE)).toEqual([]);
    await h.store.retryJob(job!, 1, 5_000);
    expect(await h.store.claimDueJobs(4_999, 10, LEASE)).toEqual([]);
    expect(await h.store.claimDueJobs(5_000, 10, LEASE)).toMatchObject([{ attempts: 1 }]);
  });

  withStore('removes a gone subscription only if the device still has that endpoint', async (h) => {
    await h.store.enqueue([message(1)], 1_000);
    await h.store.promote('u_b', 'c1', 1_000, (p) => buildPayload(p));
    const [job] = await h.store.claimDueJobs(1_000, 10, LEASE);
    await h.store.putSubscription('u_b', 'phone', { kind: 'webhook', token: 't-phone-new' }, 1_050);
    await h.store.finishJob(job!, 'gone', 1_100, 1, 't-phone');
    expect((await h.store.subscriptionsOf('u_b')).map((s) => s.subscription)).toEqual([
      { kind: 'webhook', token: 't-phone-new' },
    ]);
  });

  withStore('muting drops what is owed and keeps the channel silent until unmuted', async (h) => {
    await h.store.enqueue([message(1)], 1_000);
    await h.store.setMuted('u_b', 'c1', true);
    expect(await h.store.isMuted('u_b', 'c1')).toBe(true);
    expect(await h.store.counts()).toEqual({ pending: 0, jobs: 0 });
    expect(await h.store.enqueue([message(2)], 1_100)).toBe(0);
    await h.store.setMuted('u_b', 'c1', false);
    expect(await h.store.enqueue([message(3)], 1_200)).toBe(1);
  });

  withStore('stores only the known subscription fields, and one device per endpoint', async (h) => {
    const extra = { kind: 'webhook', token: 't', platform: 'android', evil: 'x' } as never;
    await h.store.putSubscription('u_c', 'd', extra, 0);
    expect((await h.store.subscription('u_c', 'd'))?.subscription).toEqual({
      kind: 'webhook',
      token: 't',
      platform: 'android',
    });
    // The same token registered by another user's device moves there (a shared phone, a new login).
    await h.store.putSubscription('u_d', 'd2', { kind: 'webhook', token: 't' }, 1);
    expect(await h.store.subscription('u_c', 'd')).toBeUndefined();
  });
}
