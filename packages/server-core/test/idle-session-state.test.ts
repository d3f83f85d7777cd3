import type { ServerFrame, SyncEntry } from '@natter/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalHub } from '../src/chat/local-hub.js';
import { type Deadline, DeadlineQueue } from '../src/ws/deadline-queue.js';

function item(deadline: number, log: number[]): Deadline {
  return { deadline, queueIndex: -1, expire: () => log.push(deadline) };
}

describe('DeadlineQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires items in deadline order, each at its deadline, behind one timer', () => {
    const log: number[] = [];
    const queue = new DeadlineQueue(Date.now);
    const deadlines = [500, 100, 900, 300, 700, 100, 200];
    for (const d of deadlines) queue.add(item(d, log));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual([100, 100]);
    vi.advanceTimersByTime(800);
    expect(log).toEqual([100, 100, 200, 300, 500, 700, 900]);
    expect(queue.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not expire removed items, and stops its timer when empty', () => {
    const log: number[] = [];
    const queue = new DeadlineQueue(Date.now);
    const items = [300, 100, 200, 400].map((d) => item(d, log));
    for (const i of items) queue.add(i);
    queue.remove(items[1] as Deadline); // the earliest
    queue.remove(items[3] as Deadline); // the last
    queue.remove(items[3] as Deadline); // twice is a no-op
    expect(items[1]?.queueIndex).toBe(-1);
    vi.advanceTimersByTime(1_000);
    expect(log).toEqual([200, 300]);
    queue.add(item(2_000, log));
    queue.remove(items[0] as Deadline); // not queued any more: no-op
    const last = item(1_500, log);
    queue.add(last);
    queue.remove(last);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(log).toEqual([200, 300, 2_000]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('re-arms for an earlier deadline, and for one beyond the longest setTimeout', () => {
    const log: number[] = [];
    const queue = new DeadlineQueue(Date.now);
    const far = 2 ** 31 + 5_000;
    queue.add(item(far, log));
    queue.add(item(50, log));
    vi.advanceTimersByTime(50);
    expect(log).toEqual([50]);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(log).toEqual([50]);
    vi.advanceTimersByTime(5_000);
    expect(log).toEqual([50, far]);
  });

  it('keeps its heap ordered through random adds and removes', () => {
    const log: number[] = [];
    const queue = new DeadlineQueue(Date.now);
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const live = new Set<Deadline>();
    for (let i = 0; i < 2_000; i++) {
      if (live.size > 0 && random() < 0.4) {
        const victim = [...live][Math.floor(random() * live.size)] as Deadline;
        queue.remove(victim);
        live.delete(victim);
      } else {
        const added = item(1 + Math.floor(random() * 10_000), log);
        queue.add(added);
        live.add(added);
      }
    }
    vi.advanceTimersByTime(10_001);
    expect(log).toEqual([...live].map((i) => i.deadline).sort((a, b) => a - b));
  });
});

interface TestEndpoint {
  connectionId: string;
  userId: string;
  deviceId: string;
  entries: number[];
  frames: number;
  pushEntry(entry: SyncEntry): void;
  pushFrame(frame: ServerFrame): void;
}

function endpoint(userId: string, connectionId: string, onEntry?: () => void): TestEndpoint {
  const e: TestEndpoint = {
    connectionId,
    userId,
    deviceId: connectionId,
    entries: [],
    frames: 0,
    pushEntry: (entry) => {
      e.entries.push(entry.pos);
      onEntry?.();
    },
    pushFrame: () => {
      e.frames++;
    },
  };
  return e;
}

const entry = (pos: number) => ({ pos }) as unknown as SyncEntry;

describe('LocalHub', () => {
  it('delivers to one, two and again one connection of a user', () => {
    const hub = new LocalHub<TestEndpoint>();
    const a = endpoint('u1', 'c1');
    const b = endpoint('u1', 'c2');
    hub.add(a);
    hub.add(a); // twice is once
    expect([...hub.endpointsOf('u1')]).toEqual([a]);
    hub.deliver([{ userId: 'u1', entry: entry(1) }]);
    hub.add(b);
    expect([...hub.endpointsOf('u1')]).toEqual([a, b]);
    hub.deliver([{ userId: 'u1', entry: entry(2) }], { connectionId: 'c1', onAck: () => {} });
    hub.sendToUsers(['u1'], { t: 'pong', rid: 1, serverTime: 0 }, 'c2');
    hub.remove(a);
    expect([...hub.endpointsOf('u1')]).toEqual([b]);
    hub.deliver([{ userId: 'u1', entry: entry(3) }], { connectionId: 'c1', onAck: () => {} });
    hub.sendToUsers(['u1', 'nobody'], { t: 'pong', rid: 1, serverTime: 0 });
    expect(a.entries).toEqual([1]);
    expect(b.entries).toEqual([2, 3]);
    expect([a.frames, b.frames]).toEqual([1, 1]);
    expect([...hub.all()]).toEqual([b]);
    hub.remove(b);
    hub.remove(b);
    expect(hub.endpointsOf('u1').size).toBe(0);
    expect([...hub.all()]).toEqual([]);
  });

  it('lets a connection leave while an entry is being delivered to its user', () => {
    const hub = new LocalHub<TestEndpoint>();
    const a: TestEndpoint = endpoint('u1', 'c1', () => hub.remove(a));
    const b = endpoint('u1', 'c2');
    hub.add(a);
    hub.add(b);
    hub.deliver([{ userId: 'u1', entry: entry(1) }]);
    expect([a.entries, b.entries]).toEqual([[1], [1]]);
    expect([...hub.endpointsOf('u1')]).toEqual([b]);
  });
});
