import type { Channel, ChannelSummary, Message, SyncEntry } from '@natter/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client.js';
import type { ChannelAddedEvent, ChatClientOptions } from '../src/client-types.js';
import type { Session } from '../src/http.js';
import type { OutboxEvent } from '../src/outbox.js';
import { MemoryStore } from '../src/stores/memory.js';
import type { FetchLike, FetchResponseLike } from '../src/transport.js';
import { FakeServer, message, until } from './helpers/fake-network.js';

/** A fake node: the user's sync log over the socket (pages and live `msg` frames), held sends. */
class FakeNode extends FakeServer {
  readonly log: SyncEntry[] = [];
  holdSends = true;

  constructor() {
    super();
    this.handle = (socket, frame) => {
      if (frame.t !== 'sync') return;
      const after = frame.after as number;
      socket.push({
        t: 'sync.page',
        rid: frame.rid,
        epoch: this.hello.epoch,
        entries: this.log.slice(after),
        head: this.log.length,
        hasMore: false,
      });
    };
  }

  /** Appends an entry to the log and delivers it live. */
  deliver(msg: Message): void {
    const entry: SyncEntry = { pos: this.log.length + 1, kind: 'message', message: msg };
    this.log.push(entry);
    this.current.push({ t: 'msg', entry });
  }
}

function json(status: number, body: unknown): FetchResponseLike {
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: () => null },
    text: async () => JSON.stringify(body),
  };
}

/** The HTTP API: routes by `METHOD path`. */
function fakeHttp(routes: Record<string, (body: unknown) => FetchResponseLike>) {
  const calls: string[] = [];
  const fetch: FetchLike = async (url, init) => {
    const key = `${init?.method ?? 'GET'} ${new URL(url).pathname}`;
    calls.push(key);
    const route = routes[key];
    if (!route) return json(404, { error: { code: 'NATTER_NOT_FOUND', message: key } });
    return route(init?.body ? JSON.parse(init.body as string) : undefined);
  };
  return { fetch, calls };
}

const session = (n: number, expiresAt = Date.now() + 600_000): Session => ({
  user: { id: 'u_1', username: 'ada', displayName: 'Ada', createdAt: 1 },
  deviceId: 'dev_1',
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresAt,
});

const system = (channelId: string, seq: number, event: NonNullable<Message['system']>) =>
  message(channelId, seq, { kind: 'system', text: '', system: event, senderId: event.actorId });

const group = (id: string, name: string): Channel => ({
  id,
  kind: 'group',
  name,
  createdBy: 'u_2',
  createdAt: 1,
  memberIds: ['u_1', 'u_2'],
});

const clients: ChatClient[] = [];
function createClient(node: FakeNode, options: Partial<ChatClientOptions> = {}): ChatClient {
  const client = new ChatClient({
    url: 'http://chat.test',
    WebSocket: node.WebSocket,
    codec: 'json',
    session: session(1),
    deliveryReceipts: false,
    backoff: () => 60_000,
    ...options,
  });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('ChatClient', () => {
  describe('with browser page events', () => {
    const listeners = new Map<string, Set<() => void>>();
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
    const fire = (type: string) => {
      for (const fn of listeners.get(type) ?? []) fn();
    };
    beforeEach(() => {
      listeners.clear();
      g.addEventListener = (type: string, fn: () => void) => {
        if (!listeners.has(type)) listeners.set(type, new Set());
        listeners.get(type)?.add(fn);
      };
      g.removeEventListener = (type: string, fn: () => void) => listeners.get(type)?.delete(fn);
    });
    afterEach(() => {
      delete g.addEventListener;
      delete g.removeEventListener;
    });

    it('releases its outbox leases on pagehide, so a reloaded page resends at once', async () => {
      const node = new FakeNode();
      const store = new MemoryStore();
      const client = createClient(node, { store, fetch: fakeHttp({}).fetch });
      await client.connect();
      await client.whenSynced();
      client.send('g_1', 'typed just before the reload');
      await until(() => node.current.received.some((f) => f.t === 'send'), 2_000, 'the send frame');
      const lease = async () => (await store.listOutbox())[0]?.lease;
      await eventually(async () => (await lease()) !== undefined, 'the lease');
      fire('pagehide');
      await eventually(async () => (await lease()) === undefined, 'the lease released');
      await client.close();
      expect(listeners.get('pagehide')?.size ?? 0).toBe(0);
      expect(listeners.get('offline')?.size ?? 0).toBe(0);
    });
  });

  it('reports an in-flight message as sending in pending(), like the outbox event', async () => {
    const node = new FakeNode();
    const client = createClient(node, { fetch: fakeHttp({}).fetch });
    const events: OutboxEvent[] = [];
    client.on('outbox', (event) => events.push(event));
    await client.connect();
    await client.whenSynced();
    const { message: sent } = client.send('g_1', 'hello');
    await until(() => events.some((e) => e.status === 'sending'), 2_000, 'sending');
    expect(client.pending()).toMatchObject([{ clientMsgId: sent.clientMsgId, status: 'sending' }]);
  });

  it('draws the resend delay of a failed send from the injected backoff random', async () => {
    const node = new FakeNode();
    let draws = 0;
    const random = () => {
      draws++;
      return 0.5; // the first retry waits half of 250 ms
    };
    const sendsAt: number[] = [];
    const answerSync = node.handle;
    node.handle = (socket, frame) => {
      answerSync?.(socket, frame);
      if (frame.t !== 'send') return;
      sendsAt.push(Date.now());
      if (sendsAt.length === 1)
        socket.push({ t: 'error', rid: frame.rid, code: 'NATTER_UNAVAILABLE', message: 'storage busy' });
    };
    const client = createClient(node, { fetch: fakeHttp({}).fetch, backoff: { random } });
    await client.connect();
    await client.whenSynced();
    client.send('g_1', 'hello');
    await until(() => sendsAt.length === 2, 2_000, 'the resend');
    expect(draws).toBe(1);
    expect(sendsAt[1]! - sendsAt[0]!).toBeGreaterThanOrEqual(120);
  });

  it('takes a newer session with setSession, and emits session on every refresh', async () => {
    const node = new FakeNode();
    const { fetch, calls } = fakeHttp({
      'POST /v1/auth/refresh': (body) => {
        const n = Number((body as { refreshToken: string }).refreshToken.split('-')[1]);
        return json(200, session(n + 1));
      },
    });
    const client = createClient(node, { fetch, session: session(1, Date.now() + 1_000) });
    const seen: (Session | undefined)[] = [];
    client.on('session', (s) => seen.push(s));
    // Another tab refreshed first and shared its session: this client must not spend refresh-1 again.
    expect(client.setSession(session(5))).toBe(true);
    expect(client.setSession(session(1, Date.now() + 1_000))).toBe(false); // older: ignored
    expect(client.session?.accessToken).toBe('access-5');
    await client.connect();
    await client.whenSynced();
    expect(node.current.params.get('access_token')).toBe('access-5');
    expect(calls).toEqual([]);
    expect(seen).toEqual([]); // a session handed in is not announced back
    // Without it, the client would have refreshed (its token expires within the margin) and announced it.
    const alone = createClient(node, { fetch, session: session(1, Date.now() + 1_000) });
    const announced: (Session | undefined)[] = [];
    alone.on('session', (s) => announced.push(s));
    await alone.connect();
    await alone.whenSynced();
    expect(calls).toEqual(['POST /v1/auth/refresh']);
    expect(announced.map((s) => s?.refreshToken)).toEqual(['refresh-2']);
    expect(node.current.params.get('access_token')).toBe('access-2');
  });

  it('adds a group the user was added to to cachedChannels() without listChannels()', async () => {
    const node = new FakeNode();
    const { fetch, calls } = fakeHttp({
      'GET /v1/channels/g_9': () => json(200, { channel: group('g_9', 'ops') }),
    });
    const client = createClient(node, { fetch });
    const added: ChannelAddedEvent[] = [];
    client.on('channel', (event) => added.push(event));
    await client.connect();
    await client.whenSynced();
    node.deliver(system('g_9', 3, { action: 'members_added', actorId: 'u_2', memberIds: ['u_1'] }));
    node.deliver(message('g_9', 4));
    await until(() => added.length === 1, 2_000, 'the channel event');
    expect(added[0]).toMatchObject({ reason: 'joined', channel: { id: 'g_9', name: 'ops', lastSeq: 4 } });
    expect((await client.cachedChannels()).map((c) => c.id)).toEqual(['g_9']);
    expect(calls).toEqual(['GET /v1/channels/g_9']);
    // A group created with the user in it is cached from its `created` entry, no request needed.
    node.deliver(
      system('g_8', 1, { action: 'created', actorId: 'u_2', name: 'new', memberIds: ['u_1', 'u_2'] }),
    );
    await until(() => added.length === 2, 2_000, 'the created channel');
    expect(added[1]).toMatchObject({ reason: 'created', channel: { id: 'g_8', name: 'new' } });
    expect((await client.cachedChannels()).map((c) => c.id).sort()).toEqual(['g_8', 'g_9']);
    expect(calls).toHaveLength(1);
  });

  it('fetches many joined channels with one channel list (a new device replaying its log)', async () => {
    const node = new FakeNode();
    const ids = ['g_1', 'g_2', 'g_3', 'g_4', 'g_5'];
    const summaries: ChannelSummary[] = ids.map((id) => ({
      ...group(id, id),
      lastSeq: 1,
      lastMessage: null,
      readSeq: 0,
      unread: 1,
    }));
    const { fetch, calls } = fakeHttp({ 'GET /v1/channels': () => json(200, { channels: summaries }) });
    for (const id of ids)
      node.log.push({
        pos: node.log.length + 1,
        kind: 'message',
        message: system(id, 1, { action: 'members_added', actorId: 'u_2', memberIds: ['u_1'] }),
      });
    // Joined and left again before this device caught up: not added.
    node.log.push({
      pos: node.log.length + 1,
      kind: 'message',
      message: system('g_5', 2, { action: 'member_left', actorId: 'u_1' }),
    });
    const client = createClient(node, { fetch });
    await client.connect();
    await client.whenSynced();
    await eventually(async () => (await client.cachedChannels()).length === 4, 'the channels');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toEqual(['GET /v1/channels']);
    expect((await client.cachedChannels()).map((c) => c.id).sort()).toEqual(['g_1', 'g_2', 'g_3', 'g_4']);
  });
});

/** Resolves when the async `predicate` holds, polling; fails after 2 s. */
async function eventually(predicate: () => Promise<boolean>, what: string): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > 2_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
