import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_LIMITS,
  ErrorCode,
  type MessageEntry,
  NatterError,
  type ServerFrame,
} from '@natter/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { RequestSender } from '../src/connection.js';

/** Any frame the client sends, without its request id, read loosely by the fakes. */
type OutgoingFrame = { t: string } & Record<string, unknown>;

import { connectionLost } from '../src/errors.js';
import { LevelStore } from '../src/level.js';
import { Outbox, type OutboxDeps, type OutboxEvent } from '../src/outbox.js';
import type { ClientStore } from '../src/store.js';
import { MemoryStore } from '../src/stores/memory.js';
import { flush, message, until } from './helpers/fake-network.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'natter-outbox-'));
  dirs.push(dir);
  return dir;
}

type Reply = (frame: OutgoingFrame) => ServerFrame | Error | 'hold';

/** The server's side of `send`: idempotent by clientMsgId, like ChatService.sendMessage. */
class FakeSendServer {
  readonly stored = new Map<string, MessageEntry>();
  readonly frames: OutgoingFrame[] = [];
  readonly held: { frame: OutgoingFrame; resolve: (f: ServerFrame) => void; reject: (e: Error) => void }[] =
    [];
  reply: Reply = (frame) => this.ack(frame);
  open = true;
  /** Called with every newly stored entry, like sync delivering it to every device. */
  onStored: ((entry: MessageEntry) => void) | undefined;
  onRequest: ((frame: OutgoingFrame) => void) | undefined;

  ack(frame: OutgoingFrame): ServerFrame {
    const id = frame.clientMsgId as string;
    const earlier = this.stored.get(id);
    if (earlier) return { t: 'ack', rid: 0, entry: earlier, duplicate: true };
    const pos = this.stored.size + 1;
    const entry: MessageEntry = {
      pos,
      kind: 'message',
      message: message(frame.channelId as string, pos, {
        senderId: 'u_1',
        clientMsgId: id,
        text: frame.text as string,
      }),
    };
    this.stored.set(id, entry);
    if (this.onStored) queueMicrotask(() => this.onStored?.(entry));
    return { t: 'ack', rid: 0, entry, duplicate: false };
  }

  request = async (frame: OutgoingFrame): Promise<ServerFrame> => {
    if (!this.open) throw connectionLost('not connected');
    this.frames.push(frame);
    this.onRequest?.(frame);
    const answer = this.reply(frame);
    if (answer === 'hold') {
      return new Promise((resolve, reject) => this.held.push({ frame, resolve, reject }));
    }
    if (answer instanceof Error) throw answer;
    return answer;
  };

  /** Acks the oldest held send. */
  release(): void {
    const next = this.held.shift();
    next?.resolve(this.ack(next.frame));
  }

  sentTexts(): string[] {
    return this.frames.map((f) => f.text as string);
  }
}

function createOutbox(
  store: ClientStore,
  server: FakeSendServer,
  leaseMs = 10_000,
  overrides: Partial<OutboxDeps> = {},
) {
  const events: OutboxEvent[] = [];
  const acks: string[] = [];
  const outbox = new Outbox({
    store,
    request: server.request as RequestSender,
    isOpen: () => server.open,
    userId: () => 'u_1',
    limits: () => DEFAULT_LIMITS,
    now: () => Date.now(),
    retryDelay: (_attempt, retryAfterMs) => retryAfterMs ?? 5,
    leaseMs,
    ackTimeoutMs: 5_000,
    onStatus: (event) => events.push(event),
    onAck: (event) => acks.push(event.clientMsgId),
    onChange: () => {},
    onError: (err) => {
      throw err;
    },
    ...overrides,
  });
  const statuses = (clientMsgId: string) =>
    events.filter((e) => e.message.clientMsgId === clientMsgId).map((e) => e.status);
  return { outbox, events, acks, statuses };
}

describe('Outbox', () => {
  it('returns a pending message at once and persists it before its frame is written', async () => {
    const store = new MemoryStore();
    const server = new FakeSendServer();
    const persistedAtSend: boolean[] = [];
    server.onRequest = (frame) => {
      void store
        .listOutbox()
        .then((items) => persistedAtSend.push(items.some((i) => i.clientMsgId === frame.clientMsgId)));
    };
    const { outbox, statuses, acks } = createOutbox(store, server);
    await outbox.load();
    const { message: pending, acked } = outbox.send('g_1', 'hello', ['u_2']);
    expect(pending).toMatchObject({ channelId: 'g_1', text: 'hello', status: 'pending', mentions: ['u_2'] });
    expect(pending.clientMsgId).toMatch(/^[0-9A-Z]{26}$/);
    expect(server.frames).toHaveLength(0);
    const stored = await acked;
    expect(stored).toMatchObject({ clientMsgId: pending.clientMsgId, text: 'hello' });
    expect(server.frames[0]).toMatchObject({
      t: 'send',
      channelId: 'g_1',
      clientMsgId: pending.clientMsgId,
      mentions: ['u_2'],
    });
    expect(persistedAtSend).toEqual([true]);
    expect(statuses(pending.clientMsgId)).toEqual(['pending', 'sending', 'sent']);
    expect(acks).toEqual([pending.clientMsgId]);
    expect(await store.listOutbox()).toEqual([]);
    expect(outbox.depth).toBe(0);
  });

  it('sends one message per channel at a time, keeping each channel in order', async () => {
    const server = new FakeSendServer();
    server.reply = () => 'hold';
    const { outbox } = createOutbox(new MemoryStore(), server);
    await outbox.load();
    const a = ['a1', 'a2', 'a3'].map((t) => outbox.send('g_a', t));
    const b = outbox.send('g_b', 'b1');
    await until(() => server.frames.length === 2);
    expect(server.sentTexts().sort()).toEqual(['a1', 'b1']);
    server.release();
    server.release();
    await until(() => server.frames.length === 3);
    expect(server.sentTexts()[2]).toBe('a2');
    server.release();
    await until(() => server.frames.length === 4);
    server.release();
    await Promise.all([...a.map((h) => h.acked), b.acked]);
    expect(server.sentTexts().filter((t) => t.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
  });

  it('retries a rate-limited message no earlier than retryAfterMs, with the same clientMsgId', async () => {
    const server = new FakeSendServer();
    const times: number[] = [];
    let first = true;
    server.reply = (frame) => {
      times.push(Date.now());
      if (first) {
        first = false;
        return new NatterError(ErrorCode.RATE_LIMITED, 'slow down', 80);
      }
      return server.ack(frame);
    };
    const { outbox, statuses } = createOutbox(new MemoryStore(), server);
    await outbox.load();
    const { message: pending, acked } = outbox.send('g_1', 'x');
    await acked;
    expect(server.frames.map((f) => f.clientMsgId)).toEqual([pending.clientMsgId, pending.clientMsgId]);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(75);
    expect(statuses(pending.clientMsgId)).toEqual(['pending', 'sending', 'pending', 'sending', 'sent']);
    expect(outbox.retries).toBe(1);
  });

  it('marks a message failed on a terminal error, lets the channel go on, and can retry or discard it', async () => {
    const store = new MemoryStore();
    const server = new FakeSendServer();
    server.reply = (frame) =>
      frame.text === 'bad' ? new NatterError(ErrorCode.NOT_FOUND, 'channel not found') : server.ack(frame);
    const { outbox, statuses } = createOutbox(store, server);
    await outbox.load();
    const bad = outbox.send('g_1', 'bad');
    const good = outbox.send('g_1', 'good');
    await expect(bad.acked).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await good.acked;
    expect(statuses(bad.message.clientMsgId)).toEqual(['pending', 'sending', 'failed']);
    const [failed] = await store.listOutbox();
    expect(failed).toMatchObject({ status: 'failed', error: { code: ErrorCode.NOT_FOUND } });
    expect(outbox.list().map((m) => m.status)).toEqual(['failed']);

    server.reply = (frame) => server.ack(frame);
    const retried = outbox.retry(bad.message.clientMsgId);
    await expect(retried.acked).resolves.toMatchObject({ clientMsgId: bad.message.clientMsgId });

    server.reply = () => new NatterError(ErrorCode.MESSAGE_TOO_LARGE, 'too big');
    const doomed = outbox.send('g_1', 'doomed');
    await expect(doomed.acked).rejects.toMatchObject({ code: ErrorCode.MESSAGE_TOO_LARGE });
    expect(await outbox.discard(doomed.message.clientMsgId)).toBe(true);
    expect(await outbox.discard(doomed.message.clientMsgId)).toBe(false);
    expect(statuses(doomed.message.clientMsgId).at(-1)).toBe('discarded');
    expect(await store.listOutbox()).toEqual([]);
  });

  it('rejects a discarded pending message with NATTER_CLIENT_DISCARDED', async () => {
    const server = new FakeSendServer();
    server.open = false;
    const { outbox } = createOutbox(new MemoryStore(), server);
    await outbox.load();
    const handle = outbox.send('g_1', 'never');
    await flush();
    await outbox.discard(handle.message.clientMsgId);
    await expect(handle.acked).rejects.toMatchObject({ code: 'NATTER_CLIENT_DISCARDED' });
  });

  it('resends after a reconnect what was lost with the connection; the server dedupes by clientMsgId', async () => {
    const server = new FakeSendServer();
    let drop = true;
    server.reply = (frame) => {
      if (drop) {
        drop = false;
        server.ack(frame); // stored, but the ack never arrives
        server.open = false;
        return connectionLost();
      }
      return server.ack(frame);
    };
    const { outbox, acks } = createOutbox(new MemoryStore(), server);
    await outbox.load();
    const handle = outbox.send('g_1', 'once');
    await until(() => !server.open);
    await flush();
    expect(server.frames).toHaveLength(1);
    server.open = true;
    outbox.onOpen();
    const stored = await handle.acked;
    expect(server.frames).toHaveLength(2);
    expect(server.stored.size).toBe(1);
    expect(stored.clientMsgId).toBe(handle.message.clientMsgId);
    expect(acks).toEqual([handle.message.clientMsgId]);
  });

  it('settles a pending message when it arrives through sync (ack lost, or sent by another tab)', async () => {
    const server = new FakeSendServer();
    server.reply = () => 'hold';
    const { outbox, acks } = createOutbox(new MemoryStore(), server);
    await outbox.load();
    const handle = outbox.send('g_1', 'x');
    await until(() => server.frames.length === 1);
    const entry = server.ack(server.frames[0]!);
    if (entry.t !== 'ack') throw new Error('expected ack');
    outbox.onEntry(entry.entry);
    await expect(handle.acked).resolves.toMatchObject({ clientMsgId: handle.message.clientMsgId });
    server.release(); // the late ack changes nothing
    await flush();
    expect(acks).toEqual([handle.message.clientMsgId]);
    expect(outbox.depth).toBe(0);
  });

  it('reports the same status through pending() as through the outbox event (one status source)', async () => {
    const server = new FakeSendServer();
    server.reply = () => 'hold';
    const { outbox, events } = createOutbox(new MemoryStore(), server);
    await outbox.load();
    const handle = outbox.send('g_1', 'in flight');
    const id = handle.message.clientMsgId;
    const listed = () => outbox.list().find((m) => m.clientMsgId === id)?.status;
    expect(listed()).toBe('pending');
    await until(() => server.frames.length === 1);
    expect(events.at(-1)).toMatchObject({ status: 'sending', message: { status: 'sending', attempts: 1 } });
    expect(listed()).toBe('sending');
    // A retryable failure: back to pending in both.
    server.held.shift()?.reject(connectionLost());
    await until(() => events.at(-1)?.status === 'pending');
    expect(events.at(-1)?.message.status).toBe('pending');
    expect(listed()).toBe('pending');
    for (const event of events) expect(event.message.status).toBe(event.status);
  });

  it('refuses input that can never be sent', async () => {
    const { outbox } = createOutbox(new MemoryStore(), new FakeSendServer());
    expect(() => outbox.send('g_1', '')).toThrow(expect.objectContaining({ code: ErrorCode.BAD_REQUEST }));
    expect(() => outbox.send('bad id!', 'x')).toThrow(
      expect.objectContaining({ code: ErrorCode.BAD_REQUEST }),
    );
    expect(() => outbox.send('g_1', 'x'.repeat(DEFAULT_LIMITS.maxMessageBytes + 1))).toThrow(
      expect.objectContaining({ code: ErrorCode.MESSAGE_TOO_LARGE }),
    );
  });

  it('keeps pending messages across a restart on a persistent store and sends each once', async () => {
    const dir = tempDir();
    const server = new FakeSendServer();
    server.open = false;
    const store1 = new LevelStore(dir);
    await store1.open();
    const first = createOutbox(store1, server);
    await first.outbox.load();
    const handles = ['one', 'two', 'three'].map((t) => first.outbox.send('g_1', t));
    await until(() => first.outbox.depth === 3);
    await flush();
    await first.outbox.close();
    for (const h of handles) await expect(h.acked).rejects.toMatchObject({ code: 'NATTER_CLIENT_CLOSED' });
    await store1.close();

    server.open = true;
    const store2 = new LevelStore(dir);
    await store2.open();
    const second = createOutbox(store2, server);
    await second.outbox.load();
    expect(second.outbox.list().map((m) => m.text)).toEqual(['one', 'two', 'three']);
    second.outbox.onOpen();
    await until(() => second.acks.length === 3);
    expect(server.sentTexts()).toEqual(['one', 'two', 'three']);
    expect(await store2.listOutbox()).toEqual([]);
    await store2.close();
  });

  describe.each([
    ['MemoryStore', () => new MemoryStore()],
    ['LevelStore', () => new LevelStore(tempDir())],
  ] as const)('two clients on one %s', (_name, createStore) => {
    it('never both send the same pending message', async () => {
      const store = createStore();
      await store.open();
      const server = new FakeSendServer();
      server.open = false;
      const a = createOutbox(store, server);
      const b = createOutbox(store, server);
      await a.outbox.load();
      await b.outbox.load();
      // Sync delivers every stored message to both clients (they are the same user).
      server.onStored = (entry) => {
        a.outbox.onEntry(entry);
        b.outbox.onEntry(entry);
      };
      const handles = Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).outbox.send(`g_${i % 4}`, `m${i}`),
      );
      await flush(10);
      // Both see every item in the store and race for them.
      server.open = true;
      a.outbox.onOpen();
      b.outbox.onOpen();
      await until(() => server.stored.size === 40, 5_000, 'all messages stored');
      await Promise.all(handles.map((h) => h.acked));
      const perId = new Map<string, number>();
      for (const f of server.frames)
        perId.set(f.clientMsgId as string, (perId.get(f.clientMsgId as string) ?? 0) + 1);
      expect([...perId.values()].every((n) => n === 1)).toBe(true);
      expect(server.frames).toHaveLength(40);
      // Each message went out from exactly one of the two clients, and both saw it settle.
      await until(() => a.outbox.depth === 0 && b.outbox.depth === 0, 5_000, 'outboxes drained');
      expect(await store.listOutbox()).toEqual([]);
      await a.outbox.close();
      await b.outbox.close();
      await store.close();
    });

    it('lets the other client take over once a crashed owner lease expires', async () => {
      const store = createStore();
      await store.open();
      const server = new FakeSendServer();
      server.reply = () => 'hold'; // the first owner never sees its ack: it "crashes" with the lease held
      let leasedAt = 0;
      server.onRequest = () => {
        leasedAt ||= Date.now();
      };
      const crashed = createOutbox(store, server, 150);
      await crashed.outbox.load();
      crashed.outbox.send('g_1', 'orphan');
      await until(() => server.frames.length === 1);
      const survivor = createOutbox(store, server, 150);
      server.reply = (frame) => server.ack(frame);
      await survivor.outbox.load();
      survivor.outbox.onOpen();
      await until(() => survivor.acks.length === 1, 3_000, 'takeover');
      // Not before the crashed owner's lease (taken just before its frame went out) expired.
      expect(Date.now() - leasedAt).toBeGreaterThanOrEqual(145);
      expect(server.frames).toHaveLength(2);
      expect(server.stored.size).toBe(1);
      await survivor.outbox.close();
      await store.close();
    });

    it('hands pending messages over at once when the owner releases its leases (pagehide)', async () => {
      const store = createStore();
      await store.open();
      const server = new FakeSendServer();
      server.reply = () => 'hold';
      const leaving = createOutbox(store, server, 60_000);
      await leaving.outbox.load();
      const { message } = leaving.outbox.send('g_1', 'reloaded');
      await until(() => server.frames.length === 1);
      expect((await store.listOutbox())[0]?.lease?.owner).toBe(leaving.outbox.owner);
      // The page goes away: no close(), only the pagehide handler runs.
      await leaving.outbox.releaseLeases();
      expect((await store.listOutbox())[0]?.lease).toBeUndefined();
      leaving.outbox.stop();
      server.reply = (frame) => server.ack(frame);
      const reloaded = createOutbox(store, server, 60_000);
      await reloaded.outbox.load();
      reloaded.outbox.onOpen();
      await until(() => reloaded.acks.length === 1, 2_000, 'takeover without waiting for the lease');
      expect(reloaded.acks).toEqual([message.clientMsgId]);
      await reloaded.outbox.close();
      await store.close();
    });

    it('picks up messages another client added while both are open, and sends those left behind', async () => {
      const store = createStore();
      await store.open();
      const server = new FakeSendServer();
      const offline = new FakeSendServer();
      offline.open = false;
      const a = createOutbox(store, server, 10_000, { scanIntervalMs: 20 });
      const b = createOutbox(store, offline);
      await a.outbox.load();
      await b.outbox.load();
      a.outbox.onOpen();
      await flush();
      // b (a tab whose socket is down) queues a message; a never reconnects, it still notices it.
      const { message } = b.outbox.send('g_1', 'from the other tab');
      await until(() => a.statuses(message.clientMsgId).includes('sent'), 3_000, 'a sends it');
      expect(a.statuses(message.clientMsgId)).toEqual(['pending', 'sending', 'sent']);
      expect(server.sentTexts()).toEqual(['from the other tab']);
      await a.outbox.close();
      await b.outbox.close();
      await store.close();
    });

    it('reports messages another client settled: sent when sync delivers them, else discarded', async () => {
      const store = createStore();
      await store.open();
      const server = new FakeSendServer();
      server.reply = () => 'hold';
      const watcher = createOutbox(store, new FakeSendServer(), 100, { scanIntervalMs: 20 });
      const sender = createOutbox(store, server, 60_000);
      await watcher.outbox.load();
      await sender.outbox.load();
      watcher.outbox.onOpen();
      server.onStored = (entry) => {
        watcher.outbox.onEntry(entry);
        sender.outbox.onEntry(entry);
      };
      const kept = sender.outbox.send('g_1', 'sent by the other tab').message.clientMsgId;
      const dropped = sender.outbox.send('g_2', 'discarded in the other tab').message.clientMsgId;
      await until(() => server.frames.length === 2);
      await until(() => watcher.outbox.list().length === 2, 2_000, 'the watcher sees both');
      expect(watcher.outbox.list().map((m) => m.status)).toEqual(['pending', 'pending']);
      await sender.outbox.discard(dropped);
      server.release(); // acks `kept`; sync delivers it to both
      await until(() => watcher.statuses(kept).includes('sent'), 2_000, 'kept settles');
      await until(() => watcher.statuses(dropped).includes('discarded'), 2_000, 'dropped settles');
      expect(watcher.statuses(kept)).toEqual(['pending', 'sent']);
      expect(watcher.statuses(dropped)).toEqual(['pending', 'discarded']);
      expect(watcher.outbox.list()).toEqual([]);
      await watcher.outbox.close();
      await sender.outbox.close();
      await store.close();
    });

    it('hands pending messages over at once when the owner closes', async () => {
      const store = createStore();
      await store.open();
      const server = new FakeSendServer();
      server.reply = () => 'hold';
      const leaving = createOutbox(store, server, 60_000);
      await leaving.outbox.load();
      leaving.outbox.send('g_1', 'handover');
      await until(() => server.frames.length === 1);
      await leaving.outbox.close();
      server.reply = (frame) => server.ack(frame);
      const next = createOutbox(store, server, 60_000);
      await next.outbox.load();
      next.outbox.onOpen();
      await until(() => next.acks.length === 1, 2_000, 'handover');
      await next.outbox.close();
      await store.close();
    });
  });
});
