import {
  DEFAULT_LIMITS,
  ErrorCode,
  type HelloFrame,
  NatterError,
  type ServerFrame,
  type SyncEntry,
  type WireEntry,
} from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { ChatCache } from '../src/cache.js';
import type { RequestSender } from '../src/connection.js';

/** Any frame the client sends, without its request id, read loosely by the fakes. */
type OutgoingFrame = { t: string } & Record<string, unknown>;

import type { ClientStore } from '../src/store.js';
import { MemoryStore } from '../src/stores/memory.js';
import { type EntrySource, type ResyncEvent, type SyncDeps, SyncEngine } from '../src/sync.js';
import { entry, flush } from './helpers/fake-network.js';

/** The server's sync log of one user, answering `sync` like ChatService.sync. */
class FakeLog {
  epoch = 'E1';
  entries: SyncEntry[] = [];
  pageSize = 3;
  requests: OutgoingFrame[] = [];
  /** Holds answers until released, to interleave live entries with a sync in flight. */
  gate: Promise<void> | undefined;

  append(count: number, channelId = 'g_1'): SyncEntry[] {
    const added: SyncEntry[] = [];
    for (let i = 0; i < count; i++) {
      const pos = this.entries.length + 1;
      const e = entry(pos, channelId, pos);
      this.entries.push(e);
      added.push(e);
    }
    return added;
  }

  hello(userId = 'u_1'): HelloFrame {
    return {
      t: 'hello',
      protocol: 1,
      userId,
      deviceId: 'dev_1',
      sessionId: 's',
      epoch: this.epoch,
      head: this.entries.length,
      limits: DEFAULT_LIMITS,
      serverTime: 0,
    };
  }

  request = async (frame: OutgoingFrame): Promise<ServerFrame> => {
    this.requests.push(frame);
    if (this.gate) await this.gate;
    const after = frame.after as number;
    const epoch = frame.epoch as string | undefined;
    const head = this.entries.length;
    if (
      (epoch !== undefined && epoch !== this.epoch) ||
      (epoch === undefined && after !== 0) ||
      after > head
    ) {
      throw new NatterError(ErrorCode.RESYNC_REQUIRED, 'cursor belongs to another log epoch');
    }
    const page = this.entries.slice(after, after + this.pageSize);
    const last = page.at(-1)?.pos ?? after;
    return { t: 'sync.page', rid: 0, epoch: this.epoch, entries: page, head, hasMore: last < head };
  };
}

function setup(
  store: ClientStore = new MemoryStore(),
  log = new FakeLog(),
  overrides: Partial<SyncDeps> = {},
) {
  const delivered: { pos: number; source: EntrySource }[] = [];
  const resyncs: ResyncEvent[] = [];
  const events: string[] = [];
  const cache = new ChatCache(store, () => 'u_1');
  const engine = new SyncEngine({
    request: ((frame: OutgoingFrame) => log.request(frame)) as RequestSender,
    cache,
    deliver: (entries, source) => {
      for (const e of entries) {
        delivered.push({ pos: e.pos, source });
        events.push(`msg ${e.pos}`);
      }
    },
    onResync: (event) => {
      resyncs.push(event);
      events.push('resync');
    },
    onError: (err) => {
      throw err;
    },
    retryDelay: () => 0,
    ...overrides,
  });
  const positions = () => delivered.map((d) => d.pos);
  return { engine, log, store, cache, delivered, positions, resyncs, events };
}

describe('SyncEngine', () => {
  it('pulls pages until hasMore is false and delivers every entry once, in order', async () => {
    const { engine, log, positions, store } = setup();
    log.append(10);
    await engine.load();
    engine.onOpen(log.hello());
    await engine.whenLive();
    expect(positions()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(log.requests.map((r) => r.after)).toEqual([0, 3, 6, 9]);
    expect(log.requests[0]?.epoch).toBeUndefined();
    expect(log.requests[1]?.epoch).toBe('E1');
    expect(await store.getCursor()).toEqual({ epoch: 'E1', pos: 10 });
    expect((await store.getMessages('g_1', { limit: 100 })).length).toBe(10);
  });

  it('buffers live entries that arrive during a sync and delivers them after it, without duplicates', async () => {
    const { engine, log, positions, delivered } = setup();
    log.append(5);
    let release!: () => void;
    log.gate = new Promise((resolve) => {
      release = resolve;
    });
    await engine.load();
    engine.onOpen(log.hello());
    // Entries committed after hello arrive live while the first page is still in flight.
    const live = log.append(3);
    for (const e of live) engine.onLive(e);
    // One of them is also repeated (e.g. ack and msg for the same position on a flaky path).
    engine.onLive(live[0]!);
    expect(positions()).toEqual([]);
    log.gate = undefined;
    release();
    await engine.whenLive();
    expect(positions()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The sync pages reached 8 themselves, so the buffered copies were dropped as duplicates.
    expect(delivered.filter((d) => d.source === 'live')).toHaveLength(0);
    expect(engine.stats.duplicatesDropped).toBe(4);
  });

  it('delivers live entries directly once live, and drops positions already delivered', async () => {
    const { engine, log, positions, delivered } = setup();
    log.append(2);
    await engine.load();
    engine.onOpen(log.hello());
    await engine.whenLive();
    const [e3, e4] = log.append(2);
    engine.onLive(e3!);
    engine.onLive(e3!);
    engine.onLive(e4!);
    engine.onLive(log.entries[0]!);
    await engine.idle();
    expect(positions()).toEqual([1, 2, 3, 4]);
    expect(delivered.slice(2).every((d) => d.source === 'live')).toBe(true);
    expect(engine.stats.duplicatesDropped).toBe(2);
    expect(log.requests).toHaveLength(1);
  });

  it('fills a gap in live delivery with a sync before delivering what came after it', async () => {
    const { engine, log, positions } = setup();
    log.append(2);
    await engine.load();
    engine.onOpen(log.hello());
    await engine.whenLive();
    const added = log.append(5);
    // 3 and 4 were lost on the way (a broker hiccup); 5 arrives and reveals the gap.
    engine.onLive(added[2]!);
    engine.onLive(added[3]!);
    engine.onLive(added[4]!);
    await engine.whenLive();
    expect(positions()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(engine.stats.gapsDetected).toBe(1);
    expect(engine.stats.gapsFilled).toBe(1);
    expect(log.requests.at(-1)?.after).toBe(5);
  });

  it('orders entries that arrive out of order during a catch-up', async () => {
    const { engine, log, positions } = setup();
    await engine.load();
    let release!: () => void;
    log.gate = new Promise((resolve) => {
      release = resolve;
    });
    engine.onOpen(log.hello());
    const added = log.append(4);
    for (const i of [3, 1, 2, 0]) engine.onLive(added[i]!);
    log.gate = undefined;
    release();
    await engine.whenLive();
    expect(positions()).toEqual([1, 2, 3, 4]);
  });

  it('continues from the stored cursor after a restart without delivering anything twice', async () => {
    const store = new MemoryStore();
    const log = new FakeLog();
    log.append(4);
    const first = setup(store, log);
    await first.engine.load();
    first.engine.onOpen(log.hello());
    await first.engine.whenLive();
    log.append(3);
    const second = setup(store, log);
    await second.engine.load();
    second.engine.onOpen(log.hello());
    await second.engine.whenLive();
    expect(first.positions()).toEqual([1, 2, 3, 4]);
    expect(second.positions()).toEqual([5, 6, 7]);
    expect(log.requests.at(-1)).toMatchObject({ epoch: 'E1', after: 4 });
  });

  it('resyncs from 0 after NATTER_RESYNC_REQUIRED, clearing the cache and announcing it before new entries', async () => {
    const { engine, log, positions, resyncs, events, store } = setup();
    log.append(3);
    await engine.load();
    engine.onOpen(log.hello());
    await engine.whenLive();
    engine.onDown();
    // The server restored a backup under the same epoch: its head is now behind the cursor.
    log.entries = log.entries.slice(0, 1);
    log.append(1, 'g_2');
    const hello = log.hello();
    hello.head = 5; // a stale hello: only the sync request finds out
    engine.onOpen(hello);
    await engine.whenLive();
    expect(resyncs).toHaveLength(1);
    expect(resyncs[0]).toMatchObject({ previous: { epoch: 'E1', pos: 3 } });
    expect(events).toEqual(['msg 1', 'msg 2', 'msg 3', 'resync', 'msg 1', 'msg 2']);
    expect(positions()).toEqual([1, 2, 3, 1, 2]);
    expect(log.requests.at(-1)).toMatchObject({ after: 0 });
    expect(log.requests.at(-1)?.epoch).toBeUndefined();
    expect(await store.getMessages('g_1', { limit: 10 })).toHaveLength(1);
    expect(engine.stats.resyncs).toBe(1);
  });

  it('resyncs without asking when hello announces another epoch', async () => {
    const { engine, log, resyncs } = setup();
    log.append(2);
    await engine.load();
    engine.onOpen(log.hello());
    await engine.whenLive();
    engine.onDown();
    log.epoch = 'E2';
    engine.onOpen(log.hello());
    await engine.whenLive();
    expect(resyncs).toHaveLength(1);
    expect(log.requests.filter((r) => r.epoch === 'E1' && r.after === 2)).toHaveLength(0);
    expect(engine.cursor).toEqual({ epoch: 'E2', pos: 2 });
  });

  it('starts over when another user signs in on the same store', async () => {
    const { engine, log, resyncs, positions } = setup();
    log.append(2);
    await engine.load();
    engine.onOpen(log.hello('u_1'));
    await engine.whenLive();
    engine.onDown();
    engine.onOpen(log.hello('u_2'));
    await engine.whenLive();
    expect(resyncs.map((r) => r.reason)).toEqual(['user changed']);
    expect(positions()).toEqual([1, 2, 1, 2]);
  });

  it('stops a catch-up when the session goes down and ignores its late answer', async () => {
    const { engine, log, positions } = setup();
    log.append(3);
    let release!: () => void;
    log.gate = new Promise((resolve) => {
      release = resolve;
    });
    await engine.load();
    engine.onOpen(log.hello());
    engine.onDown();
    release();
    await flush();
    expect(positions()).toEqual([]);
    expect(engine.status).toBe('offline');
    log.gate = undefined;
    engine.onOpen(log.hello());
    await engine.whenLive();
    expect(positions()).toEqual([1, 2, 3]);
  });

  it('retries a sync request that failed with a retryable error', async () => {
    const log = new FakeLog();
    log.append(2);
    const answer = log.request;
    let failures = 2;
    log.request = async (frame) => {
      if (failures-- > 0) throw new NatterError(ErrorCode.UNAVAILABLE, 'storage busy');
      return answer(frame);
    };
    const { engine, positions } = setup(new MemoryStore(), log);
    await engine.load();
    engine.onOpen(log.hello());
    await engine.whenLive();
    expect(positions()).toEqual([1, 2]);
    expect(log.requests).toHaveLength(1);
  });

  describe('a sync page with a hole in its positions', () => {
    /** Answers the next `count` sync requests with `corrupt` applied to the page, then honestly. */
    function corruptNext(log: FakeLog, count: number, corrupt: (entries: WireEntry[]) => WireEntry[]) {
      const honest = log.request;
      log.request = async (frame) => {
        const answer = await honest(frame);
        if (answer.t !== 'sync.page' || count-- <= 0) return answer;
        return { ...answer, entries: corrupt(answer.entries) };
      };
    }

    it('is refused and fetched again from the same cursor, never moving the cursor past the hole', async () => {
      const log = new FakeLog();
      log.pageSize = 10;
      log.append(10);
      const errors: Error[] = [];
      const cursorsAtRetry: number[] = [];
      const { engine, positions, store } = setup(new MemoryStore(), log, {
        onError: (err) => errors.push(err),
        retryDelay: () => {
          cursorsAtRetry.push(engine.cursor.pos);
          return 0;
        },
      });
      await engine.load();
      engine.onOpen(log.hello());
      await engine.whenLive();
      engine.onDown();
      // after=10 answered with 11, 12 and 14: position 13 is missing.
      log.append(4);
      corruptNext(log, 1, (entries) => entries.filter((e) => e.pos !== 13));
      engine.onOpen(log.hello());
      await engine.whenLive();
      expect(log.requests.map((r) => r.after)).toEqual([0, 10, 10]);
      expect(cursorsAtRetry).toEqual([10]);
      expect(positions()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      expect(await store.getCursor()).toEqual({ epoch: 'E1', pos: 14 });
      expect(errors.map((e) => e.message)).toEqual([
        'sync page after position 10 has a hole at position 13: refused, fetching it again',
      ]);
      expect(engine.stats.pagesRejected).toBe(1);
    });

    it('applies nothing of a page that starts past the cursor or repeats a position, and backs off', async () => {
      const log = new FakeLog();
      log.pageSize = 5;
      log.append(5);
      const errors: Error[] = [];
      const attempts: number[] = [];
      let corrupted = 0;
      const honest = log.request;
      log.request = async (frame) => {
        const answer = await honest(frame);
        if (answer.t !== 'sync.page') return answer;
        corrupted++;
        // First a page that starts at 2 (1 missing), then one that repeats 2 (3 missing), then the truth.
        if (corrupted === 1) return { ...answer, entries: answer.entries.slice(1) };
        if (corrupted === 2)
          return { ...answer, entries: [answer.entries[0]!, answer.entries[1]!, answer.entries[1]!] };
        return answer;
      };
      const { engine, positions, store } = setup(new MemoryStore(), log, {
        onError: (err) => errors.push(err),
        retryDelay: (attempt) => {
          attempts.push(attempt);
          return 0;
        },
      });
      await engine.load();
      engine.onOpen(log.hello());
      // While refused pages are retried nothing is delivered or stored.
      await flush();
      await engine.whenLive();
      expect(attempts).toEqual([0, 1]);
      expect(errors.map((e) => e.message)).toEqual([
        'sync page after position 0 has a hole at position 1: refused, fetching it again',
        'sync page after position 0 has a hole at position 3: refused, fetching it again',
      ]);
      expect(positions()).toEqual([1, 2, 3, 4, 5]);
      expect(await store.getCursor()).toEqual({ epoch: 'E1', pos: 5 });
      expect(log.requests.map((r) => r.after)).toEqual([0, 0, 0]);
    });

    it('holds back live entries until a contiguous page arrives', async () => {
      const log = new FakeLog();
      log.pageSize = 10;
      log.append(3);
      const errors: Error[] = [];
      let release!: () => void;
      const { engine, positions } = setup(new MemoryStore(), log, {
        onError: (err) => errors.push(err),
        retryDelay: () => 0,
      });
      await engine.load();
      engine.onOpen(log.hello());
      await engine.whenLive();
      // A live entry reveals a gap; the catch-up's first page leaves out position 5.
      const added = log.append(3);
      corruptNext(log, 1, (entries) => entries.filter((e) => e.pos !== 5));
      log.gate = new Promise((resolve) => {
        release = resolve;
      });
      engine.onLive(added[2]!);
      await flush();
      expect(engine.status).toBe('syncing');
      log.gate = undefined;
      release();
      await engine.whenLive();
      expect(positions()).toEqual([1, 2, 3, 4, 5, 6]);
      expect(errors).toHaveLength(1);
      expect(engine.stats.gapsFilled).toBe(1);
    });
  });

  it('never delivers a position twice under random interleavings of pages, live entries and reconnects', async () => {
    for (let round = 0; round < 20; round++) {
      const { engine, log, positions } = setup();
      log.pageSize = 1 + (round % 4);
      await engine.load();
      let seed = round + 1;
      const random = () => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      engine.onOpen(log.hello());
      for (let step = 0; step < 60; step++) {
        const r = random();
        if (r < 0.5) {
          const [e] = log.append(1, `c_${Math.floor(random() * 3)}`);
          // Live delivery is a doorbell: it may lose or repeat entries.
          if (random() < 0.8) engine.onLive(e!);
          if (random() < 0.1) engine.onLive(e!);
        } else if (r < 0.6) {
          engine.onDown();
          engine.onOpen(log.hello());
        } else {
          await flush(1);
        }
      }
      engine.onDown();
      engine.onOpen(log.hello());
      await engine.whenLive();
      const expected = log.entries.map((e) => e.pos);
      expect(positions()).toEqual(expected);
    }
  });
});
