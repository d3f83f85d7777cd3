import { describe, expect, it } from 'vitest';
import type { OutboxItem } from '../src/store.js';
import { isQuotaError, ResilientStore, type StorageErrorEvent } from '../src/stores/resilient.js';
import { message } from './helpers/fake-network.js';
import { QuotaStore, quotaError } from './helpers/quota-store.js';

function setup() {
  const primary = new QuotaStore();
  const events: StorageErrorEvent[] = [];
  const store = new ResilientStore(primary, (e) => events.push(e));
  return { primary, kv: primary.quota, store, events };
}

const outboxItem = (clientMsgId: string): OutboxItem => ({
  clientMsgId,
  userId: 'u_1',
  channelId: 'g_1',
  text: 'x',
  mentions: [],
  createdAt: 1,
  order: 1,
  status: 'pending',
  attempts: 0,
});

const messages = (channelId: string, from: number, count: number) =>
  Array.from({ length: count }, (_, i) => message(channelId, from + i));

describe('isQuotaError', () => {
  it('recognises the quota errors of browsers and full disks', () => {
    expect(isQuotaError(quotaError())).toBe(true);
    expect(isQuotaError({ name: 'NS_ERROR_DOM_QUOTA_REACHED' })).toBe(true);
    expect(isQuotaError(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))).toBe(true);
    expect(isQuotaError(new Error('IO error: No space left on device'))).toBe(true);
    expect(isQuotaError(new Error('database closed'))).toBe(false);
    expect(isQuotaError(undefined)).toBe(false);
  });
});

describe('ResilientStore', () => {
  it('evicts the cache and retries when a write hits the quota', async () => {
    const { store, kv, events } = setup();
    await store.open();
    await store.putMessages(messages('g_old', 1, 40));
    kv.capacity = 50;
    await store.commitSync({
      cursor: { epoch: 'E', pos: 20 },
      messages: messages('g_new', 1, 20),
      channels: [],
      removedChannelIds: [],
    });
    expect(events.map((e) => e.action)).toEqual(['evicted']);
    expect(events[0]).toMatchObject({ operation: 'commitSync', quota: true });
    expect(await store.getMessages('g_old')).toEqual([]);
    expect(await store.getMessages('g_new', { limit: 100 })).toHaveLength(20);
    expect(await store.getCursor()).toEqual({ epoch: 'E', pos: 20 });
    expect(store.degradation).toBe('full');
  });

  it('stops caching when eviction does not help, and still persists the cursor', async () => {
    const { store, kv, events, primary } = setup();
    await store.open();
    kv.failPrefix = 'm!';
    await store.commitSync({
      cursor: { epoch: 'E', pos: 5 },
      messages: messages('g_1', 1, 5),
      channels: [],
      removedChannelIds: [],
    });
    expect(events.map((e) => e.action)).toEqual(['cache-disabled']);
    expect(store.degradation).toBe('no-cache');
    expect(await primary.getCursor()).toEqual({ epoch: 'E', pos: 5 });
    // Later cache writes are skipped without new failures or events.
    const failures = kv.failures;
    await store.putMessages(messages('g_1', 6, 5));
    await store.commitSync({
      cursor: { epoch: 'E', pos: 9 },
      messages: messages('g_1', 6, 4),
      channels: [],
      removedChannelIds: [],
    });
    expect(kv.failures).toBe(failures);
    expect(await primary.getCursor()).toEqual({ epoch: 'E', pos: 9 });
    expect(events).toHaveLength(1);
  });

  it('moves cursor and outbox to memory when nothing can be written any more', async () => {
    const { store, kv, events } = setup();
    await store.open();
    await store.putOutbox(outboxItem('old'));
    kv.failAll = true;
    await store.commitSync({
      cursor: { epoch: 'E', pos: 3 },
      messages: messages('g_1', 1, 3),
      channels: [],
      removedChannelIds: [],
    });
    await store.putOutbox(outboxItem('new'));
    expect(events.map((e) => e.action)).toContain('memory-fallback');
    expect(store.degradation).toBe('memory');
    expect(await store.getCursor()).toEqual({ epoch: 'E', pos: 3 });
    expect((await store.getMessages('g_1', { limit: 10 })).map((m) => m.seq)).toEqual([1, 2, 3]);
    // Items written before the failure are still found, next to the ones kept in memory.
    expect((await store.listOutbox()).map((i) => i.clientMsgId).sort()).toEqual(['new', 'old']);
    expect((await store.leaseOutbox('new', 'A', 1_000, 0))?.lease?.owner).toBe('A');
    // A lease on a persisted item cannot be written: the item is still handed out (the server dedupes).
    expect(await store.leaseOutbox('old', 'A', 1_000, 0)).toMatchObject({ clientMsgId: 'old' });
    await store.deleteOutbox('new');
    expect((await store.listOutbox()).map((i) => i.clientMsgId)).toEqual(['old']);
  });

  it('runs in memory when the store cannot even be opened', async () => {
    const events: StorageErrorEvent[] = [];
    const broken = new QuotaStore();
    broken.open = async () => {
      throw new Error('IndexedDB is disabled in private mode');
    };
    const store = new ResilientStore(broken, (e) => events.push(e));
    await store.putOutbox(outboxItem('x'));
    await store.setMeta('deviceId', 'dev_1');
    expect(events.map((e) => e.action)).toEqual(['memory-fallback']);
    expect((await store.listOutbox()).map((i) => i.clientMsgId)).toEqual(['x']);
    expect(await store.getMeta('deviceId')).toBe('dev_1');
  });

  it('answers failed reads as empty and reports them', async () => {
    const { store, events, primary } = setup();
    await store.open();
    primary.getMessages = async () => {
      throw new Error('read failed');
    };
    expect(await store.getMessages('g_1')).toEqual([]);
    expect(events.map((e) => e.action)).toEqual(['read-failed']);
  });

  it('never lets a throwing storage-error listener escape', async () => {
    const primary = new QuotaStore();
    const store = new ResilientStore(primary, () => {
      throw new Error('listener bug');
    });
    primary.quota.failAll = true;
    await expect(store.putMessages(messages('g_1', 1, 1))).resolves.toBeUndefined();
  });
});
