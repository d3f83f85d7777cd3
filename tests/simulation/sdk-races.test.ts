import {
  ChatClient,
  type ClientStore,
  MemoryStore,
  type Message,
  type OutboxEvent,
  type WebSocketLike,
} from '@natter/client';
import { Outbox, type OutboxDeps } from '@natter/client/internals';
import { DEFAULT_LIMITS } from '@natter/protocol';
import { describe, expect, it } from 'vitest';

/**
 * Regression tests for SDK races the simulation found (the chaos suite saw the first as a per-channel order
 * violation). All come from store calls that take time (IndexedDB, LevelDB) overlapping with other work.
 */

/** A MemoryStore whose calls of the given methods wait at a gate, once each, until it is opened. */
function gatedStore(methods: readonly string[]): {
  store: MemoryStore;
  slow: ClientStore;
  open(m: string): void;
} {
  const store = new MemoryStore();
  const gates = new Map<string, { promise: Promise<void>; open: () => void; used: boolean }>();
  for (const m of methods) {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    gates.set(m, { promise, open, used: false });
  }
  const slow = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const gate = gates.get(String(prop));
        if (gate && !gate.used) {
          gate.used = true;
          await gate.promise;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as ClientStore;
  return { store, slow, open: (m) => gates.get(m)?.open() };
}

function outboxOn(store: ClientStore, overrides: Partial<OutboxDeps> = {}): Outbox {
  return new Outbox({
    store,
    request: () => new Promise(() => {}),
    isOpen: () => false,
    userId: () => 'u_1',
    limits: () => DEFAULT_LIMITS,
    now: () => Date.now(),
    retryDelay: () => 60_000,
    leaseMs: 20_000,
    ackTimeoutMs: 5_000,
    onChange: () => {},
    onStatus: () => {},
    onAck: () => {},
    onError: (err) => {
      throw err;
    },
    ...overrides,
  });
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe('outbox races with a slow store', () => {
  it('a store re-read does not forget a message sent while the re-read waits in the write queue', async () => {
    const { store, slow, open } = gatedStore(['putOutbox']);
    await store.open();
    const outbox = outboxOn(slow);
    await outbox.load();

    outbox.send('g_1', 'first'); // its store write waits at the gate
    outbox.onOpen(); // a re-read of the store, queued behind that write
    outbox.send('g_1', 'second'); // its store write is queued behind the re-read
    open('putOutbox');
    await settle();

    expect((await store.listOutbox()).map((item) => ('text' in item ? item.text : item.kind))).toEqual([
      'first',
      'second',
    ]);
    // Before the fix the re-read dropped 'second' from memory: it was then sent after later messages of its
    // channel (or, with no later re-read, not at all) although it sat in the store all along.
    expect(outbox.list().map((m) => m.text)).toEqual(['first', 'second']);
    await outbox.close();
  });

  it('a message settled through sync while its lease is being taken is not sent again nor put back', async () => {
    const { store, slow, open } = gatedStore(['leaseOutbox', 'deleteOutbox']);
    await store.open();
    const frames: unknown[] = [];
    const events: OutboxEvent[] = [];
    const outbox = outboxOn(slow, {
      isOpen: () => true,
      request: (frame) => {
        frames.push(frame);
        return Promise.reject(new Error('connection lost'));
      },
      onStatus: (event) => events.push(event),
    });
    await outbox.load();

    const { message } = outbox.send('g_1', 'hello'); // persisted, then its lease waits at the gate
    await settle();
    // The first attempt's ack was lost; the message arrives through sync and settles (its delete is slow).
    const stored: Message = {
      id: '01J00000000000000000000000',
      channelId: 'g_1',
      seq: 1,
      senderId: 'u_1',
      clientMsgId: message.clientMsgId,
      kind: 'text',
      text: 'hello',
      mentions: [],
      system: null,
      createdAt: 1,
    };
    outbox.onEntry({ pos: 1, kind: 'message', message: stored });
    open('leaseOutbox'); // the lease now reads the row, which is not deleted yet
    await settle();
    open('deleteOutbox');
    await settle();

    // Before the fix the settled message was sent again, and when that attempt failed its row was written
    // back: it stayed in the store (resent on the next start) and the app saw `sent` followed by `pending`.
    expect(frames).toEqual([]);
    expect(await store.listOutbox()).toEqual([]);
    expect(events.map((e) => e.status)).toEqual(['pending', 'sent']);
    await outbox.close();
  });

  it('a client closed while connect() waits for its local data stays closed', async () => {
    const opened: string[] = [];
    class RecordingSocket implements WebSocketLike {
      readyState = 0;
      protocol = '';
      binaryType = 'blob';
      onopen = null;
      onmessage = null;
      onclose = null;
      onerror = null;
      constructor(url: string) {
        opened.push(url);
      }
      send(): void {}
      close(): void {
        this.readyState = 3;
      }
    }
    const { slow, open } = gatedStore(['open']);
    const client = new ChatClient({
      url: 'http://natter.invalid',
      WebSocket: RecordingSocket,
      fetch: () => Promise.reject(new Error('no HTTP here')),
      store: slow,
      getToken: () => 'token',
    });
    const connecting = client.connect(); // waits for the store to open and load
    const closing = client.close(); // the app changes its mind (React StrictMode unmounts at once)
    open('open');
    await connecting;
    await closing;
    await settle();
    // Before the fix the pending connect() opened the connection after close(): a client nobody holds any
    // more went on receiving, emitting and sending on a closed store.
    expect(opened).toEqual([]);
    expect(client.status).toBe('closed');
  });
});
