import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelStore } from '../src/level.js';
import type { CacheLimits, ClientStore, OutboxItem, OutboxSendItem } from '../src/store.js';
import { IndexedDbStore } from '../src/stores/indexeddb.js';
import { MemoryStore } from '../src/stores/memory.js';
import { message } from './helpers/fake-network.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let dbCounter = 0;

/**
 * Every store implementation runs the same suite (the abstract-level way): pass a factory. `reopen` opens a
 * second instance on the same data, for persistent stores.
 */
const factories: [
  string,
  (limits?: Partial<CacheLimits>) => { store: ClientStore; reopen?: () => ClientStore },
][] = [
  ['MemoryStore', (limits) => ({ store: new MemoryStore(limits) })],
  [
    'LevelStore',
    (limits) => {
      const dir = mkdtempSync(join(tmpdir(), 'natter-store-'));
      dirs.push(dir);
      return { store: new LevelStore(dir, limits), reopen: () => new LevelStore(dir, limits) };
    },
  ],
  [
    'IndexedDbStore',
    (limits) => {
      const name = `natter-test-${++dbCounter}`;
      const create = () => new IndexedDbStore({ name, indexedDB, IDBKeyRange, ...limits });
      return { store: create(), reopen: create };
    },
  ],
];

function item(clientMsgId: string, order: number, extra: Partial<OutboxSendItem> = {}): OutboxItem {
  return {
    clientMsgId,
    userId: 'u_1',
    channelId: 'g_1',
    text: clientMsgId,
    mentions: [],
    createdAt: order,
    order,
    status: 'pending',
    attempts: 0,
    ...extra,
  };
}

describe.each(factories)('%s', (_name, create) => {
  async function open(limits?: Partial<CacheLimits>) {
    const { store } = create(limits);
    await store.open();
    return store;
  }

  it('keeps meta values and the cursor', async () => {
    const store = await open();
    expect(await store.getCursor()).toBeUndefined();
    await store.setMeta('deviceId', 'dev_1');
    await store.commitSync({
      cursor: { epoch: 'E', pos: 7 },
      messages: [],
      channels: [],
      removedChannelIds: [],
    });
    expect(await store.getMeta('deviceId')).toBe('dev_1');
    expect(await store.getMeta('missing')).toBeUndefined();
    expect(await store.getCursor()).toEqual({ epoch: 'E', pos: 7 });
    await store.close();
  });

  it('keeps the end-to-end encryption state of each device apart, as bytes, and forgets it on request', async () => {
    const store = await open();
    const state = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
    expect(await store.getE2eeState('u_1/dev_1')).toBeUndefined();
    await store.putE2eeState('u_1/dev_1', state);
    await store.putE2eeState('u_1/dev_2', new Uint8Array([1, 2, 3]));
    expect(await store.getE2eeState('u_1/dev_1')).toEqual(state);
    await store.resetSync();
    await store.clearCache();
    expect(await store.getE2eeState('u_1/dev_2')).toEqual(new Uint8Array([1, 2, 3]));
    await store.deleteE2eeState('u_1/dev_2');
    expect(await store.getE2eeState('u_1/dev_2')).toBeUndefined();
    expect(await store.getE2eeState('u_1/dev_1')).toEqual(state);
    await store.close();
  });

  it('commits messages, channel changes and cursor together', async () => {
    const store = await open();
    const channel = {
      id: 'g_1',
      kind: 'group' as const,
      name: 'g',
      createdBy: 'u_1',
      createdAt: 1,
      memberIds: ['u_1'],
    };
    await store.putChannels([channel, { ...channel, id: 'g_2' }]);
    await store.commitSync({
      cursor: { epoch: 'E', pos: 2 },
      messages: [message('g_1', 1), message('g_1', 2)],
      channels: [{ ...channel, name: 'renamed' }],
      removedChannelIds: ['g_2'],
    });
    expect((await store.getMessages('g_1')).map((m) => m.seq)).toEqual([1, 2]);
    expect(await store.getChannels()).toEqual([{ ...channel, name: 'renamed' }]);
    await store.close();
  });

  it('reads cached messages newest-first pages in ascending order', async () => {
    const store = await open();
    await store.putMessages(Array.from({ length: 30 }, (_, i) => message('g_1', i + 1)));
    await store.putMessages([message('g_10', 1)]);
    expect((await store.getMessages('g_1', { limit: 3 })).map((m) => m.seq)).toEqual([28, 29, 30]);
    expect((await store.getMessages('g_1', { beforeSeq: 10, limit: 3 })).map((m) => m.seq)).toEqual([
      7, 8, 9,
    ]);
    expect((await store.getMessages('g_1', { afterSeq: 10, limit: 3 })).map((m) => m.seq)).toEqual([
      11, 12, 13,
    ]);
    expect((await store.getMessages('g_1', { afterSeq: 10, beforeSeq: 13 })).map((m) => m.seq)).toEqual([
      11, 12,
    ]);
    // A channel id that is a prefix of another never sees the other's messages.
    expect((await store.getMessages('g_10')).map((m) => m.channelId)).toEqual(['g_10']);
    expect(await store.getMessages('nope')).toEqual([]);
    await store.close();
  });

  it('keeps only the newest maxMessagesPerChannel messages of a channel', async () => {
    const store = await open({ maxMessagesPerChannel: 10 });
    for (let start = 1; start <= 95; start += 7) {
      await store.putMessages(Array.from({ length: 7 }, (_, i) => message('g_1', start + i)));
    }
    const kept = await store.getMessages('g_1', { limit: 1_000 });
    expect(kept.map((m) => m.seq)).toEqual([89, 90, 91, 92, 93, 94, 95, 96, 97, 98]);
    // Older history fetched later does not push newer messages out.
    await store.putMessages([message('g_1', 3), message('g_1', 4)]);
    expect((await store.getMessages('g_1', { limit: 1_000 })).map((m) => m.seq)).toEqual(
      kept.map((m) => m.seq),
    );
    // Rewriting a cached message does not count twice.
    await store.putMessages([message('g_1', 98, { text: 'edited' })]);
    const again = await store.getMessages('g_1', { limit: 1_000 });
    expect(again).toHaveLength(10);
    expect(again.at(-1)?.text).toBe('edited');
    await store.close();
  });

  it('drops the least recently active channel beyond maxCachedChannels', async () => {
    const store = await open({ maxCachedChannels: 3 });
    await store.putMessages([message('c_old', 1, { createdAt: 10 })]);
    await store.putMessages([message('c_mid', 1, { createdAt: 20 })]);
    await store.putMessages([message('c_new', 1, { createdAt: 30 })]);
    await store.putMessages([message('c_old', 2, { createdAt: 40 })]);
    await store.putMessages([message('c_4th', 1, { createdAt: 35 })]);
    expect(await store.getMessages('c_mid')).toEqual([]);
    for (const id of ['c_old', 'c_new', 'c_4th']) expect(await store.getMessages(id)).not.toEqual([]);
    await store.close();
  });

  it('bounds the whole cache under a long stream of messages', async () => {
    const store = await open({ maxMessagesPerChannel: 20, maxCachedChannels: 5 });
    for (let i = 0; i < 40; i++) {
      const batch = Array.from({ length: 10 }, (_, j) =>
        message(`c_${(i * 3 + j) % 12}`, i * 10 + j + 1, { createdAt: i }),
      );
      await store.putMessages(batch);
    }
    let total = 0;
    for (let c = 0; c < 12; c++) {
      const n = (await store.getMessages(`c_${c}`, { limit: 1_000 })).length;
      expect(n).toBeLessThanOrEqual(20);
      total += n;
    }
    expect(total).toBeLessThanOrEqual(5 * 20 + 10 * 20);
    await store.close();
  });

  it('clearCache drops channels and messages but keeps cursor and outbox; resetSync drops the cursor too', async () => {
    const store = await open();
    await store.commitSync({
      cursor: { epoch: 'E', pos: 1 },
      messages: [message('g_1', 1)],
      channels: [{ id: 'g_1', kind: 'group', name: 'g', createdBy: 'u', createdAt: 1, memberIds: [] }],
      removedChannelIds: [],
    });
    await store.putOutbox(item('c1', 1));
    await store.clearCache();
    expect(await store.getMessages('g_1')).toEqual([]);
    expect(await store.getChannels()).toEqual([]);
    expect(await store.getCursor()).toEqual({ epoch: 'E', pos: 1 });
    await store.resetSync();
    expect(await store.getCursor()).toBeUndefined();
    expect((await store.listOutbox()).map((i) => i.clientMsgId)).toEqual(['c1']);
    // The cache works again after being cleared.
    await store.putMessages([message('g_1', 5)]);
    expect((await store.getMessages('g_1')).map((m) => m.seq)).toEqual([5]);
    await store.close();
  });

  it('replaceChannels replaces the whole list', async () => {
    const store = await open();
    const base = { kind: 'group' as const, name: 'g', createdBy: 'u', createdAt: 1, memberIds: [] };
    await store.putChannels([
      { ...base, id: 'a' },
      { ...base, id: 'b' },
    ]);
    await store.replaceChannels([{ ...base, id: 'c' }]);
    expect((await store.getChannels()).map((c) => c.id)).toEqual(['c']);
    await store.close();
  });

  it('lists the outbox in order and deletes items', async () => {
    const store = await open();
    await store.putOutbox(item('b', 2));
    await store.putOutbox(item('a', 3));
    await store.putOutbox(item('c', 1));
    expect((await store.listOutbox()).map((i) => i.clientMsgId)).toEqual(['c', 'b', 'a']);
    await store.deleteOutbox('b');
    expect((await store.listOutbox()).map((i) => i.clientMsgId)).toEqual(['c', 'a']);
    await store.close();
  });

  it('grants a lease to one owner until it expires or is released', async () => {
    const store = await open();
    await store.putOutbox(item('x', 1));
    expect((await store.leaseOutbox('x', 'A', 1_000, 0))?.lease).toEqual({ owner: 'A', expiresAt: 1_000 });
    expect(await store.leaseOutbox('x', 'B', 1_000, 500)).toBeUndefined();
    expect((await store.leaseOutbox('x', 'A', 1_000, 500))?.lease?.expiresAt).toBe(1_500);
    expect((await store.leaseOutbox('x', 'B', 1_000, 1_500))?.lease?.owner).toBe('B');
    await store.releaseLease('x', 'A');
    expect((await store.listOutbox())[0]?.lease?.owner).toBe('B');
    await store.releaseLease('x', 'B');
    expect((await store.listOutbox())[0]?.lease).toBeUndefined();
    expect((await store.leaseOutbox('x', 'A', 1_000, 1_600))?.lease?.owner).toBe('A');
    await store.close();
  });

  it('never leases a failed or missing item', async () => {
    const store = await open();
    await store.putOutbox(
      item('f', 1, { status: 'failed', error: { code: 'NATTER_NOT_FOUND', message: 'x' } }),
    );
    expect(await store.leaseOutbox('f', 'A', 1_000, 0)).toBeUndefined();
    expect(await store.leaseOutbox('missing', 'A', 1_000, 0)).toBeUndefined();
    await store.close();
  });

  it('gives each concurrently contested lease to exactly one owner', async () => {
    const store = await open();
    const ids = Array.from({ length: 50 }, (_, i) => `m${i}`);
    for (const [i, id] of ids.entries()) await store.putOutbox(item(id, i));
    const owners = ['A', 'B', 'C'];
    const results = await Promise.all(
      ids.flatMap((id) =>
        owners.map(async (owner) => ((await store.leaseOutbox(id, owner, 10_000, 0)) ? owner : null)),
      ),
    );
    for (let i = 0; i < ids.length; i++) {
      expect(results.slice(i * 3, i * 3 + 3).filter((r) => r !== null)).toHaveLength(1);
    }
    await store.close();
  });
});

describe.each(factories.filter(([name]) => name !== 'MemoryStore'))('%s (persistence)', (_name, create) => {
  it('keeps cursor, cache, outbox and encryption state across close and reopen', async () => {
    const { store: first, reopen } = create();
    await first.open();
    await first.commitSync({
      cursor: { epoch: 'E', pos: 3 },
      messages: [message('g_1', 3)],
      channels: [],
      removedChannelIds: [],
    });
    await first.putOutbox(item('p', 1));
    await first.putE2eeState('u_1/dev_1', new Uint8Array([9, 8, 7]));
    await first.close();
    const second = reopen!();
    await second.open();
    expect(await second.getCursor()).toEqual({ epoch: 'E', pos: 3 });
    expect((await second.getMessages('g_1')).map((m) => m.seq)).toEqual([3]);
    expect((await second.listOutbox()).map((i) => i.clientMsgId)).toEqual(['p']);
    expect(await second.getE2eeState('u_1/dev_1')).toEqual(new Uint8Array([9, 8, 7]));
    await second.close();
  });
});

describe('IndexedDbStore', () => {
  it('refuses to start where IndexedDB is missing, so the app can pick another store', () => {
    expect(() => new IndexedDbStore()).toThrow(/IndexedDB is not available/);
  });

  it('gives each lease to one of two tabs sharing a database', async () => {
    const name = `natter-tabs-${++dbCounter}`;
    const tab1 = new IndexedDbStore({ name, indexedDB, IDBKeyRange });
    const tab2 = new IndexedDbStore({ name, indexedDB, IDBKeyRange });
    await tab1.open();
    await tab2.open();
    for (let i = 0; i < 20; i++) await tab1.putOutbox(item(`m${i}`, i));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => [
        tab1.leaseOutbox(`m${i}`, 'tab1', 10_000, 0),
        tab2.leaseOutbox(`m${i}`, 'tab2', 10_000, 0),
      ]).flat(),
    );
    for (let i = 0; i < 20; i++) expect(results.slice(i * 2, i * 2 + 2).filter(Boolean)).toHaveLength(1);
    await tab1.close();
    await tab2.close();
  });

  it('reports a quota error of a transaction as a rejected write', async () => {
    const store = new IndexedDbStore({ name: `natter-quota-${++dbCounter}`, indexedDB, IDBKeyRange });
    await store.open();
    const broken = { ...item('q', 1), text: (() => {}) as unknown as string }; // not cloneable: the put throws
    await expect(store.putOutbox(broken)).rejects.toBeTruthy();
    // The failed transaction changed nothing and the store keeps working.
    expect(await store.listOutbox()).toEqual([]);
    await store.putOutbox(item('ok', 2));
    expect((await store.listOutbox()).map((i) => i.clientMsgId)).toEqual(['ok']);
    await store.close();
  });
});
