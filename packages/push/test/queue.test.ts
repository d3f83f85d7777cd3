import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPayload } from '../src/payload.js';
import { type OwedMessage, PushStore } from '../src/queue.js';

let dir: string;
let path: string;
let store: PushStore;
const open = () => PushStore.open(path, { collapseMs: 30_000 });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'natter-push-queue-'));
  path = join(dir, 'push.db');
  store = open();
  store.putSubscription('u_b', 'phone', { kind: 'webhook', token: 't-phone' }, 0);
});

afterEach(() => {
  if (store.isOpen) store.close();
  rmSync(dir, { recursive: true, force: true });
});

const message = (seq: number, extra: Partial<OwedMessage> = {}): OwedMessage => ({
  userId: 'u_b',
  channelId: 'c1',
  seq,
  messageId: `m${seq}`,
  senderId: 'u_a',
  text: null,
  ...extra,
});

const reopen = () => {
  store.close();
  store = open();
};

describe('push store', () => {
  it('keeps owed notifications, collapsed per user and channel, across a reopen', () => {
    expect(store.enqueue([message(1), message(2), message(3, { channelId: 'c2' })], 1_000)).toBe(3);
    reopen();
    const due = store.duePending(1_000, 10);
    expect(due.map((p) => [p.channelId, p.count, p.latestSeq, p.latestMessageId])).toEqual([
      ['c1', 2, 2, 'm2'],
      ['c2', 1, 3, 'm3'],
    ]);
  });

  it('records nothing for users with no registered device', () => {
    expect(store.enqueue([message(1, { userId: 'u_nobody' })], 1_000)).toBe(0);
    expect(store.counts()).toEqual({ pending: 0, jobs: 0 });
  });

  it('counts an entry delivered twice once', () => {
    store.enqueue([message(1), message(2)], 1_000);
    store.enqueue([message(2), message(1)], 1_001);
    expect(store.duePending(2_000, 10)[0]).toMatchObject({ count: 2, latestSeq: 2 });
  });

  it('makes a channel notified within the collapse window due when the window ends', () => {
    store.enqueue([message(1)], 1_000);
    expect(store.promote('u_b', 'c1', 1_000, (p) => buildPayload(p))).toEqual({ kind: 'queued', jobs: 1 });
    store.enqueue([message(2), message(3)], 5_000);
    expect(store.duePending(30_999, 10)).toEqual([]);
    expect(store.duePending(31_000, 10)[0]).toMatchObject({ count: 2, latestSeq: 3, firstAt: 5_000 });
    // An entry the last notification already covered is not owed again.
    store.enqueue([message(1)], 6_000);
    expect(store.duePending(31_000, 10)[0]).toMatchObject({ count: 2 });
  });

  it('never hands out a finished job again, even after a reopen', () => {
    store.putSubscription('u_b', 'laptop', { kind: 'webhook', token: 't-laptop' }, 0);
    store.enqueue([message(1)], 1_000);
    store.promote('u_b', 'c1', 1_000, (p) => buildPayload(p));
    const jobs = store.dueJobs(1_000, 10);
    expect(jobs.map((j) => j.deviceId).sort()).toEqual(['laptop', 'phone']);
    expect(jobs[0]!.id).toBe(jobs[1]!.id); // one notification, one job per device
    const phone = jobs.find((j) => j.deviceId === 'phone')!;
    expect(store.finishJob(phone, 'ok', 1_100, 1)).toBe(true);
    reopen();
    expect(store.dueJobs(2_000, 10).map((j) => j.deviceId)).toEqual(['laptop']);
    expect(store.finishJob(phone, 'ok', 1_200, 1)).toBe(false);
  });

  it('removes a gone subscription only if the device still has that endpoint', () => {
    store.enqueue([message(1)], 1_000);
    store.promote('u_b', 'c1', 1_000, (p) => buildPayload(p));
    const [job] = store.dueJobs(1_000, 10);
    store.putSubscription('u_b', 'phone', { kind: 'webhook', token: 't-phone-new' }, 1_050);
    store.finishJob(job!, 'gone', 1_100, 1, 't-phone');
    expect(store.subscriptionsOf('u_b').map((s) => s.subscription)).toEqual([
      { kind: 'webhook', token: 't-phone-new' },
    ]);
  });

  it('stores only the known subscription fields', () => {
    const extra = { kind: 'webhook', token: 't', platform: 'android', evil: 'x' } as never;
    store.putSubscription('u_c', 'd', extra, 0);
    expect(store.subscription('u_c', 'd')?.subscription).toEqual({
      kind: 'webhook',
      token: 't',
      platform: 'android',
    });
  });

  it('refuses a store written by a newer version', () => {
    store.close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => open()).toThrow(expect.objectContaining({ code: 'NATTER_STORE_VERSION_UNSUPPORTED' }));
  });
});
