import { CloseCode, ErrorCode, jsonCodec } from '@natter/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, type ConnectionOptions, type StateChange } from '../src/connection.js';
import { type DiscoverFn, type DiscoveryOutcome, Placement } from '../src/placement.js';
import { entry, FakeServer } from './helpers/fake-network.js';

/** A discovery answer listing node A then node B (same region, equally loaded). */
function twoNodes(): DiscoveryOutcome {
  const node = (id: string) => ({ nodeId: id, wsUrl: `ws://${id}.test/v1/ws`, region: 'eu', load: 0 });
  return {
    kind: 'answer',
    answer: { wsUrl: 'ws://node-a.test/v1/ws', region: 'eu', candidates: [node('node-a'), node('node-b')] },
  };
}

/** A placement over an injected discovery; no pings (the candidates carry no ping URL). */
function placementWith(discover: DiscoverFn): Placement {
  return new Placement({
    discover,
    ping: async () => 1,
    fallbackWsUrl: 'ws://chat.test/v1/ws',
    now: () => Date.now(),
    random: () => 0,
  });
}

function setup(overrides: Partial<ConnectionOptions> = {}) {
  const server = new FakeServer();
  const tokens: { refresh: boolean }[] = [];
  const connection = new Connection({
    wsUrl: 'ws://chat.test/v1/ws',
    getToken: (request) => {
      tokens.push(request);
      return `token-${tokens.length}`;
    },
    deviceId: () => 'dev_1',
    WebSocket: server.WebSocket,
    codec: jsonCodec,
    backoff: (attempt) => 100 * (attempt + 1),
    pongTimeoutMs: 1_000,
    handshakeTimeoutMs: 5_000,
    requestTimeoutMs: 5_000,
    tokenInHeader: false,
    now: () => Date.now(),
    ...overrides,
  });
  const changes: StateChange[] = [];
  connection.on('state', (change) => changes.push(change));
  const transitions = () => changes.map((c) => `${c.status}:${c.reason}`);
  return { server, connection, tokens, changes, transitions };
}

describe('Connection state machine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes idle → connecting → open when the server says hello', async () => {
    const { connection, transitions, server } = setup();
    expect(connection.status).toBe('idle');
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(transitions()).toEqual(['connecting:connect', 'open:hello']);
    expect(connection.hello?.epoch).toBe('E1');
    const socket = server.current;
    expect(socket.params.get('access_token')).toBe('token-1');
    expect(socket.params.get('device')).toBe('dev_1');
    expect(socket.protocols).toBe('natter.v1.json');
  });

  it('stays connecting until hello even after the socket opened', async () => {
    const { connection, server } = setup();
    server.autoHello = false;
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(connection.status).toBe('connecting');
    server.current.push({ t: 'hello', ...server.hello });
    expect(connection.status).toBe('open');
  });

  it('sends the token as a header when asked (Node ws)', async () => {
    const { connection, server } = setup({ tokenInHeader: true });
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.current.params.get('access_token')).toBeNull();
    expect(server.current.options?.headers?.authorization).toBe('Bearer token-1');
  });

  it('reconnects with the injected backoff after the socket closes, asking for a token each time', async () => {
    const { connection, server, transitions, tokens, changes } = setup();
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.serverClose(1006);
    expect(connection.status).toBe('reconnecting');
    expect(changes.at(-1)).toMatchObject({
      reason: 'socket-closed',
      closeCode: 1006,
      delayMs: 100,
      failures: 1,
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(connection.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1);
    expect(transitions()).toEqual([
      'connecting:connect',
      'open:hello',
      'reconnecting:socket-closed',
      'connecting:retry',
      'open:hello',
    ]);
    expect(tokens).toEqual([{ refresh: false }, { refresh: false }]);
    expect(server.sockets).toHaveLength(2);
  });

  it('grows the delay while attempts keep failing and resets it after a hello', async () => {
    const { connection, server, changes } = setup();
    server.autoAccept = false;
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.refuse('getaddrinfo ENOTFOUND');
    await vi.advanceTimersByTimeAsync(100);
    server.current.refuse('getaddrinfo ENOTFOUND');
    await vi.advanceTimersByTimeAsync(200);
    server.current.refuse('getaddrinfo ENOTFOUND');
    const delays = changes.filter((c) => c.status === 'reconnecting').map((c) => c.delayMs);
    expect(delays).toEqual([100, 200, 300]);
    server.autoAccept = true;
    await vi.advanceTimersByTimeAsync(300);
    expect(connection.status).toBe('open');
    await vi.advanceTimersByTimeAsync(1_000);
    server.current.serverClose(1011);
    expect(changes.at(-1)?.delayMs).toBe(100);
  });

  it('keeps growing the delay when sessions end right after hello (a flapping node)', async () => {
    const { connection, server, changes } = setup();
    connection.connect();
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(i === 0 ? 0 : changes.at(-1)!.delayMs!);
      expect(connection.status).toBe('open');
      server.current.serverClose(1006);
    }
    const delays = changes.filter((c) => c.status === 'reconnecting').map((c) => c.delayMs);
    expect(delays).toEqual([100, 200, 300, 400]);
  });

  it('refreshes the token and reconnects at once after 4001', async () => {
    const { connection, server, tokens, changes } = setup();
    connection.connect();
    await vi.advanceTimersByTimeAsync(5_000);
    server.current.serverClose(CloseCode.TOKEN_EXPIRED, 'token expired');
    expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'token-expired', delayMs: 0 });
    await vi.advanceTimersByTimeAsync(0);
    expect(connection.status).toBe('open');
    expect(tokens.at(-1)).toEqual({ refresh: true });
    expect(server.current.params.get('access_token')).toBe('token-2');
  });

  it('asks for a fresh token after the upgrade was refused with 401', async () => {
    const { connection, server, tokens, changes } = setup();
    server.autoAccept = false;
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.refuse('Unexpected server response: 401');
    expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'connect-failed' });
    server.autoAccept = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(tokens.at(-1)).toEqual({ refresh: true });
    expect(connection.status).toBe('open');
  });

  it('stops for good after 4003 (revoked)', async () => {
    const { connection, server, transitions } = setup();
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.serverClose(CloseCode.SESSION_REVOKED, 'logged out');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(transitions()).toEqual(['connecting:connect', 'open:hello', 'closed:revoked']);
    expect(server.sockets).toHaveLength(1);
  });

  it('stops when the token provider refuses with an authentication error', async () => {
    const { connection, transitions } = setup({
      getToken: () => {
        throw Object.assign(new Error('refresh token invalid'), { code: ErrorCode.UNAUTHORIZED });
      },
    });
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(transitions()).toEqual(['connecting:connect', 'closed:unauthorized']);
  });

  it('retries when the token provider fails for another reason', async () => {
    let calls = 0;
    const { connection, changes } = setup({
      getToken: () => {
        calls++;
        if (calls === 1) throw new Error('network down');
        return 't';
      },
    });
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'token-failed' });
    await vi.advanceTimersByTimeAsync(100);
    expect(connection.status).toBe('open');
  });

  it('reconnects after 1001 no earlier than the delay named in the close reason', async () => {
    const { connection, server, changes } = setup();
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.serverClose(CloseCode.GOING_AWAY, 'draining; retryAfterMs=2000');
    expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'going-away', delayMs: 2_100 });
    await vi.advanceTimersByTimeAsync(2_099);
    expect(connection.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1);
    expect(connection.status).toBe('open');
  });

  it('leaves a node that closed with 1001 for another candidate after the backoff alone', async () => {
    const answer = twoNodes();
    const discover = vi.fn(async () => answer);
    const { connection, server, changes } = setup({ placement: placementWith(discover) });
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.current.url.startsWith('ws://node-a.test/v1/ws?')).toBe(true);
    server.current.serverClose(CloseCode.GOING_AWAY, 'draining; retryAfterMs=2000');
    // The named delay keeps the client off node A, not off the cluster.
    expect(changes.at(-1)).toMatchObject({ reason: 'going-away', delayMs: 100, node: 'node-a' });
    await vi.advanceTimersByTimeAsync(100);
    expect(connection.status).toBe('open');
    expect(server.current.url.startsWith('ws://node-b.test/v1/ws?')).toBe(true);
    expect(discover).toHaveBeenCalledTimes(1);
  });

  it('falls back to the configured URL when discovery fails', async () => {
    const placement = placementWith(async () => {
      throw new Error('discovery down');
    });
    const { connection, server } = setup({ placement });
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(connection.status).toBe('open');
    expect(server.current.url.startsWith('ws://chat.test/v1/ws?')).toBe(true);
  });

  it('pings every heartbeat interval and treats a missing pong as a dead connection', async () => {
    const { connection, server, changes } = setup({ heartbeatIntervalMs: 1_000 });
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.current.received.filter((f) => f.t === 'ping')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.current.received.filter((f) => f.t === 'ping')).toHaveLength(2);
    server.answerPings = false;
    const first = server.current;
    await vi.advanceTimersByTimeAsync(1_000 + 999);
    expect(connection.status).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'heartbeat-timeout' });
    expect(first.readyState).toBe(3);
  });

  it('uses the interval from hello when none is configured', async () => {
    const { connection, server } = setup();
    server.hello.limits.heartbeatIntervalMs = 7_000;
    connection.connect();
    await vi.advanceTimersByTimeAsync(6_999);
    expect(server.current.received.filter((f) => f.t === 'ping')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.current.received.filter((f) => f.t === 'ping')).toHaveLength(1);
  });

  it('gives up a handshake that gets no hello in time', async () => {
    const { connection, server, changes } = setup();
    server.autoHello = false;
    connection.connect();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'handshake-timeout' });
  });

  it('correlates answers with requests and turns error frames into NatterErrors', async () => {
    const { connection, server } = setup();
    server.handle = (socket, frame) => {
      if (frame.t === 'history') {
        socket.push({
          t: 'history.page',
          rid: frame.rid,
          channelId: 'g_1',
          messages: [],
          hasMoreBefore: false,
          hasMoreAfter: false,
        });
      }
      if (frame.t === 'send') {
        socket.push({
          t: 'error',
          rid: frame.rid,
          code: ErrorCode.RATE_LIMITED,
          message: 'slow down',
          retryAfterMs: 50,
        });
      }
    };
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    await expect(connection.request({ t: 'history', channelId: 'g_1' })).resolves.toMatchObject({
      t: 'history.page',
    });
    await expect(
      connection.request({ t: 'send', channelId: 'g_1', clientMsgId: 'c', text: 'x' }),
    ).rejects.toMatchObject({
      code: ErrorCode.RATE_LIMITED,
      retryAfterMs: 50,
    });
  });

  it('rejects with NATTER_BAD_RESPONSE an answer of the wrong type or shape, at once, and keeps the session', async () => {
    const { connection, server } = setup();
    const errors: Error[] = [];
    connection.on('error', (e) => errors.push(e));
    server.handle = (socket, frame) => {
      // A pong for a sync, and an ack whose entry fails the shared schema.
      if (frame.t === 'sync') socket.push({ t: 'pong', rid: frame.rid, serverTime: 1 });
      if (frame.t === 'send')
        socket.push({ t: 'ack', rid: frame.rid, entry: { pos: 'x' }, duplicate: false } as never);
    };
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    await expect(connection.request({ t: 'sync', after: 0 })).rejects.toMatchObject({
      code: ErrorCode.BAD_RESPONSE,
      message: 'unexpected answer pong to sync',
    });
    await expect(
      connection.request({ t: 'send', channelId: 'g_1', clientMsgId: 'c', text: 'x' }),
    ).rejects.toMatchObject({ code: ErrorCode.BAD_RESPONSE });
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([ErrorCode.BAD_RESPONSE]);
    expect(connection.status).toBe('open');
  });

  it('rejects requests in flight with a retryable error when the socket drops', async () => {
    const { connection, server } = setup();
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    const pending = connection.request({ t: 'sync', after: 0 });
    server.current.serverClose(1006);
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await expect(connection.request({ t: 'sync', after: 0 })).rejects.toMatchObject({
      code: ErrorCode.UNAVAILABLE,
    });
  });

  it('dispatches frames that arrive before hello right after the open event', async () => {
    const { connection, server } = setup();
    server.autoHello = false;
    const seen: string[] = [];
    connection.on('open', () => seen.push('open'));
    connection.on('entry', (e) => seen.push(`msg ${e.pos}`));
    connection.on('frame', (f) => seen.push(f.t));
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.push({ t: 'msg', entry: entry(1) });
    server.current.push({ t: 'msg', entry: entry(2) });
    expect(seen).toEqual([]);
    server.current.push({ t: 'hello', ...server.hello });
    expect(seen).toEqual(['open', 'msg 1', 'msg 2']);
  });

  it('drops malformed frames with an error event instead of crashing', async () => {
    const { connection, server } = setup();
    const errors: Error[] = [];
    connection.on('error', (e) => errors.push(e));
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.push({ t: 'msg', entry: { pos: 'x' } } as Record<string, unknown>);
    (server.current.onmessage as ((e: { data: unknown }) => void) | null)?.({ data: 'not json' });
    expect(errors).toHaveLength(2);
    expect(connection.status).toBe('open');
  });

  it('ignores frame types it does not know (a newer server) and passes known pushes on', async () => {
    const { connection, server } = setup();
    const errors: Error[] = [];
    const frames: string[] = [];
    connection.on('error', (e) => errors.push(e));
    connection.on('frame', (f) => frames.push(f.t));
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.push({ t: 'reaction.added', whatever: 1 });
    server.current.push({ t: 'typing', channelId: 'g_1', userId: 'u_2', active: true, expiresInMs: 5_000 });
    expect(errors).toEqual([]);
    expect(frames).toEqual(['typing']);
  });

  it('close() ends the session, rejects requests with NATTER_CLIENT_CLOSED and never reconnects', async () => {
    const { connection, server, transitions } = setup();
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    const pending = connection.request({ t: 'sync', after: 0 });
    const downs: number[] = [];
    connection.on('down', (d) => downs.push(d.closeCode));
    connection.close();
    await expect(pending).rejects.toMatchObject({ code: 'NATTER_CLIENT_CLOSED' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(transitions()).toEqual(['connecting:connect', 'open:hello', 'closed:client-closed']);
    expect(server.sockets).toHaveLength(1);
    expect(server.current.closedByClient?.code).toBe(1000);
    expect(downs).toEqual([1000]);
  });

  it('close() while waiting to reconnect cancels the retry', async () => {
    const { connection, server } = setup();
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    server.current.serverClose(1006);
    connection.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(connection.status).toBe('closed');
    expect(server.sockets).toHaveLength(1);
  });

  it('connect() after close() starts again', async () => {
    const { connection } = setup();
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    connection.close();
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(connection.status).toBe('open');
  });

  it('retries at once when the runtime reports the network is back', async () => {
    const listeners = new Map<string, () => void>();
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
    g.addEventListener = (type: string, fn: () => void) => listeners.set(type, fn);
    g.removeEventListener = (type: string) => listeners.delete(type);
    try {
      const { connection, server, changes } = setup({ backoff: () => 60_000 });
      connection.connect();
      await vi.advanceTimersByTimeAsync(0);
      server.current.serverClose(1006);
      expect(connection.status).toBe('reconnecting');
      listeners.get('online')?.();
      await vi.advanceTimersByTimeAsync(0);
      expect(changes.map((c) => c.reason)).toContain('online');
      expect(connection.status).toBe('open');
      connection.close();
      expect(listeners.has('online')).toBe(false);
    } finally {
      delete g.addEventListener;
      delete g.removeEventListener;
    }
  });

  describe('network events (browsers keep a dead socket "open")', () => {
    const listeners = new Map<string, () => void>();
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
    beforeEach(() => {
      listeners.clear();
      g.addEventListener = (type: string, fn: () => void) => listeners.set(type, fn);
      g.removeEventListener = (type: string, fn: () => void) => {
        if (listeners.get(type) === fn) listeners.delete(type);
      };
    });
    afterEach(() => {
      delete g.addEventListener;
      delete g.removeEventListener;
    });
    const pings = (socket: { received: { t: string }[] }) => socket.received.filter((f) => f.t === 'ping');

    it('probes at once on offline and drops the socket when the pong misses probeTimeoutMs', async () => {
      const { connection, server, changes } = setup({
        heartbeatIntervalMs: 60_000,
        pongTimeoutMs: 10_000,
        probeTimeoutMs: 3_000,
        backoff: () => 60_000,
      });
      connection.connect();
      await vi.advanceTimersByTimeAsync(0);
      const dead = server.current;
      server.answerPings = false;
      // A request in flight must not wait out its 5 s timeout.
      const inFlight = connection.request({ t: 'history', channelId: 'g_1' });
      inFlight.catch(() => {});
      listeners.get('offline')?.();
      expect(pings(dead)).toHaveLength(1);
      listeners.get('offline')?.(); // one probe at a time
      expect(pings(dead)).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(2_999);
      expect(connection.status).toBe('open');
      await vi.advanceTimersByTimeAsync(1);
      expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'probe-timeout' });
      expect(dead.readyState).toBe(3);
      await expect(inFlight).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
      // Back online while waiting to reconnect: at once, not after the 60 s backoff.
      server.answerPings = true;
      listeners.get('online')?.();
      await vi.advanceTimersByTimeAsync(0);
      expect(connection.status).toBe('open');
      expect(server.sockets).toHaveLength(2);
    });

    it('keeps a socket that answers the probe; online while open probes too', async () => {
      const { connection, server, transitions } = setup({
        heartbeatIntervalMs: 60_000,
        probeTimeoutMs: 3_000,
      });
      connection.connect();
      await vi.advanceTimersByTimeAsync(0);
      listeners.get('online')?.();
      expect(pings(server.current)).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(0); // the pong settled the probe
      listeners.get('offline')?.();
      expect(pings(server.current)).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(connection.status).toBe('open');
      expect(transitions()).toEqual(['connecting:connect', 'open:hello']);
      expect(server.sockets).toHaveLength(1);
    });

    it('removes its listeners on close()', async () => {
      const { connection } = setup();
      connection.connect();
      await vi.advanceTimersByTimeAsync(0);
      expect([...listeners.keys()].sort()).toEqual(['offline', 'online']);
      connection.close();
      expect(listeners.size).toBe(0);
    });
  });
});
