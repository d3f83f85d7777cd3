import type { NatterEvent } from '@natter/protocol';
import { expect, it } from 'vitest';
import type { EventStore } from '../../src/event-store.js';

/** One event store for one test: `reopen` closes it and opens another over the same data. */
export interface EventStoreHarness {
  store: EventStore;
  reopen(): Promise<EventStore>;
  cleanup(): Promise<void>;
}

const T0 = 1_800_000_000_000;
const LEASE = 60_000;

/** An event whose id sorts by `n` (ids are time-ordered strings, as the server makes them). */
export function contractEvent(n: number, at = T0): NatterEvent {
  return {
    id: `evt_${String(at).padStart(13, '0')}${String(n).padStart(6, '0')}`,
    type: 'message.created',
    createdAt: at,
    data: {
      message: {
        id: `m${n}`,
        channelId: 'g1',
        seq: n,
        senderId: 'u1',
        clientMsgId: null,
        kind: 'text',
        text: `message ${n}`,
        mentions: [],
        system: null,
        createdAt: at,
      },
    },
  };
}

const seqOf = (event: NatterEvent) => (event.type === 'message.created' ? event.data.message.seq : 0);

const both = () => ['a', 'b'];

/**
 * The EventStore contract, run against every adapter (SQLite and PostgreSQL): the same behaviour whether
 * one process owns the log or a cluster of nodes shares it.
 */
export function eventStoreContract(create: () => Promise<EventStoreHarness>): void {
  const withStore = (title: string, run: (h: EventStoreHarness) => Promise<void>) =>
    it(title, async () => {
      const harness = await create();
      let store = harness.store;
      await store.open();
      try {
        await run({
          get store() {
            return store;
          },
          reopen: async () => {
            await store.close();
            store = await harness.reopen();
            await store.open();
            return store;
          },
          cleanup: harness.cleanup,
        });
      } finally {
        await store.close();
        await harness.cleanup();
      }
    });

  withStore('records each event once with one delivery per endpoint, kept across a reopen', async (h) => {
    const events = [1, 2, 3].map((n) => contractEvent(n));
    await h.store.append(events, both, T0);
    await h.store.append([events[0]!], both, T0); // a retried append adds nothing
    await h.reopen();
    expect(await h.store.counts()).toEqual({ events: 3, pending: { a: 3, b: 3 } });
    const page = await h.store.list(undefined, 2);
    expect(page.events.map((e) => e.id)).toEqual([events[0]!.id, events[1]!.id]);
    expect(page.hasMore).toBe(true);
    expect(page.events[0]).toEqual(events[0]);
    const rest = await h.store.list(events[1]!.id, 2);
    expect(rest).toEqual({ events: [events[2]], hasMore: false });
  });

  withStore('only endpoints that want an event get a delivery of it', async (h) => {
    await h.store.append(
      [1, 2, 3, 4].map((n) => contractEvent(n)),
      (event) => (seqOf(event) % 2 === 1 ? ['a'] : ['a', 'b']),
      T0,
    );
    expect((await h.store.counts()).pending).toEqual({ a: 4, b: 2 });
  });

  withStore('claims due deliveries oldest first and hides them for the lease', async (h) => {
    await h.store.append(
      [3, 1, 2].map((n) => contractEvent(n)),
      both,
      T0,
    );
    const first = await h.store.claimDue('a', T0, 2, LEASE);
    expect(first.map((d) => d.event.id)).toEqual([contractEvent(1).id, contractEvent(2).id]);
    expect(first[0]).toMatchObject({ endpoint: 'a', attempts: 0, createdAt: T0 });
    expect((await h.store.claimDue('a', T0, 10, LEASE)).map((d) => d.event.id)).toEqual([
      contractEvent(3).id,
    ]);
    expect(await h.store.claimDue('a', T0 + 1, 10, LEASE)).toEqual([]);
    // The other endpoint's deliveries are its own.
    expect(await h.store.claimDue('b', T0, 10, LEASE)).toHaveLength(3);
    // A worker that died holding claims: they come back when the lease ends.
    expect(await h.store.claimDue('a', T0 + LEASE, 10, LEASE)).toHaveLength(3);
  });

  withStore('a finished delivery is never claimed again; a retried one waits until due', async (h) => {
    await h.store.append(
      [1, 2].map((n) => contractEvent(n)),
      both,
      T0,
    );
    const [one, two] = await h.store.claimDue('a', T0, 10, LEASE);
    await h.store.finish(one!, 'delivered', 1, T0 + 5);
    await h.store.retry(two!, 1, T0 + 10_000);
    expect((await h.store.counts()).pending).toEqual({ a: 1, b: 2 });
    expect(await h.store.claimDue('a', T0 + 9_999, 10, LEASE)).toEqual([]);
    const again = await h.store.claimDue('a', T0 + 10_000, 10, LEASE);
    expect(again.map((d) => [d.event.id, d.attempts])).toEqual([[contractEvent(2).id, 1]]);
    await h.store.finish(again[0]!, 'gave_up', 2, T0 + 10_001);
    await h.store.finish(again[0]!, 'delivered', 3, T0 + 10_002); // settled once, for good
    expect((await h.store.counts()).pending).toEqual({ b: 2 });
    expect(await h.store.claimDue('a', T0 + 10 * LEASE, 10, LEASE)).toEqual([]);
  });

  withStore('bound drops the oldest unclaimed deliveries; their events stay listable', async (h) => {
    await h.store.append(
      [1, 2, 3, 4, 5].map((n) => contractEvent(n)),
      both,
      T0,
    );
    expect(await h.store.bound('a', 2, T0)).toBe(3);
    expect(await h.store.bound('a', 2, T0)).toBe(0);
    expect((await h.store.counts()).pending).toEqual({ a: 2, b: 5 });
    expect((await h.store.claimDue('a', T0, 10, LEASE)).map((d) => d.event.id)).toEqual([
      contractEvent(4).id,
      contractEvent(5).id,
    ]);
    expect((await h.store.list(undefined, 10)).events).toHaveLength(5);
  });

  withStore('purge removes settled deliveries and old events no endpoint waits for', async (h) => {
    await h.store.append([contractEvent(1)], both, T0);
    await h.store.append([contractEvent(2, T0 + 100_000)], both, T0 + 100_000);
    for (const endpoint of both()) {
      const [delivery] = await h.store.claimDue(endpoint, T0, 1, LEASE);
      await h.store.finish(delivery!, 'delivered', 1, T0 + 1);
    }
    // Event 2 is old enough too, but still owed: it stays.
    await h.store.purge(T0 + 200_000);
    expect((await h.store.list(undefined, 10)).events.map((e) => e.id)).toEqual([
      contractEvent(2, T0 + 100_000).id,
    ]);
    expect(await h.store.counts()).toEqual({ events: 1, pending: { a: 1, b: 1 } });
  });
}
