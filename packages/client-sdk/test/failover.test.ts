import { CloseCode, type DiscoveryCandidate, jsonCodec } from '@natter/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, type StateChange } from '../src/connection.js';
import {
  type DiscoveryHint,
  type DiscoveryOutcome,
  Placement,
  type PlacementOptions,
} from '../src/placement.js';
import { FakeServer, type FakeSocket } from './helpers/fake-network.js';

/**
 * Failover of the connection over a placement, on the in-process fake network: which node each attempt goes
 * to, how long it waits, and which state and reason the app sees. Hosts are `<nodeId>.test`; the test decides
 * per host whether a socket is accepted, refused, left hanging or closed.
 */

const node = (id: string, extra: Partial<DiscoveryCandidate> = {}): DiscoveryCandidate => ({
  nodeId: id,
  wsUrl: `ws://${id}.test/v1/ws`,
  region: 'eu',
  load: 0,
  ...extra,
});

const listing = (...ids: string[]): DiscoveryOutcome => ({
  kind: 'answer',
  answer: { wsUrl: `ws://${ids[0]}.test/v1/ws`, region: 'eu', candidates: ids.map((id) => node(id)) },
});

type Behaviour = 'accept' | 'refuse' | 'hang' | 'overloaded' | 'flap';

function setup(
  discovery: () => DiscoveryOutcome,
  options: PlacementOptions = {},
  getToken: () => string = () => 'token',
) {
  const server = new FakeServer();
  const behaviour = new Map<string, Behaviour>();
  server.onConnect = (socket: FakeSocket) => {
    const host = new URL(socket.url).host.replace(/\.test$/, '');
    switch (behaviour.get(host) ?? 'accept') {
      case 'refuse':
        socket.refuse('connect ECONNREFUSED');
        return;
      case 'hang':
        return;
      case 'overloaded':
        socket.accept();
        socket.serverClose(CloseCode.TRY_AGAIN_LATER, 'overloaded; retryAfterMs=3000');
        return;
      case 'flap':
        socket.accept();
        socket.push({ t: 'hello', ...server.hello });
        socket.serverClose(1006);
        return;
      default:
        socket.accept();
        socket.push({ t: 'hello', ...server.hello });
    }
  };
  const hints: DiscoveryHint[] = [];
  const placement = new Placement(
    {
      discover: async (hint) => {
        hints.push({ region: hint.region, failed: [...hint.failed] });
        return discovery();
      },
      ping: async () => 1,
      fallbackWsUrl: 'ws://configured.test/v1/ws',
      now: () => Date.now(),
      random: () => 0,
    },
    options,
  );
  const connection = new Connection({
    wsUrl: 'ws://configured.test/v1/ws',
    placement,
    getToken,
    deviceId: () => 'dev_1',
    WebSocket: server.WebSocket,
    codec: jsonCodec,
    backoff: (attempt) => 100 * (attempt + 1),
    pongTimeoutMs: 1_000,
    handshakeTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
    tokenInHeader: false,
    now: () => Date.now(),
  });
  const changes: StateChange[] = [];
  connection.on('state', (change) => changes.push(change));
  const hostsTried = () => server.sockets.map((s) => new URL(s.url).host.replace(/\.test$/, ''));
  return { server, behaviour, connection, changes, hints, hostsTried };
}

describe('failover across candidate nodes', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('after its node dies, reconnects to the next candidate after the backoff, never to the dead node', async () => {
    const { server, behaviour, connection, changes, hostsTried, hints } = setup(() => listing('a', 'b', 'c'));
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(hostsTried()).toEqual(['a']);
    behaviour.set('a', 'refuse');
    server.current.serverClose(1006);
    expect(changes.at(-1)).toMatchObject({
      status: 'reconnecting',
      reason: 'socket-closed',
      node: 'a',
      delayMs: 100,
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(connection.status).toBe('open');
    expect(hostsTried()).toEqual(['a', 'b']);
    expect(hints).toHaveLength(1); // the candidate list sufficed
    expect(changes.at(-1)).toMatchObject({ status: 'open', node: 'b' });
  });

  it('moves to the next candidate at once when one refuses the upgrade', async () => {
    const { behaviour, connection, changes, hostsTried } = setup(() => listing('a', 'b'));
    behaviour.set('a', 'refuse');
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.find((c) => c.status === 'reconnecting')).toMatchObject({
      reason: 'connect-failed',
      node: 'a',
      delayMs: 0,
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(connection.status).toBe('open');
    expect(hostsTried()).toEqual(['a', 'b']);
  });

  it("stays on its node when the token source fails (not the node's fault)", async () => {
    let calls = 0;
    const { connection, changes, hostsTried } = setup(
      () => listing('a', 'b'),
      {},
      () => {
        calls++;
        if (calls === 1) throw new Error('token service briefly down');
        return 'token';
      },
    );
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'token-failed' });
    await vi.advanceTimersByTimeAsync(100);
    expect(connection.status).toBe('open');
    expect(hostsTried()).toEqual(['a']);
  });

  it('leaves a candidate that answers its ping but refuses the upgrade, and names it to discovery', async () => {
    const pinged = (id: string) => node(id, { pingUrl: `http://${id}.test/v1/ping` });
    let answer: DiscoveryOutcome = {
      kind: 'answer',
      answer: { wsUrl: 'ws://a.test/v1/ws', region: 'eu', candidates: [pinged('a'), pinged('b')] },
    };
    const { behaviour, connection, hostsTried, hints, server } = setup(() => answer);
    behaviour.set('a', 'refuse'); // a's ping is the fastest (every ping answers 1 ms; a comes first)
    connection.connect();
    await vi.advanceTimersByTimeAsync(1);
    expect(connection.status).toBe('open');
    expect(hostsTried()).toEqual(['a', 'b']);
    // b drops too: discovery is asked at once, told about both.
    answer = listing('c');
    behaviour.set('b', 'refuse');
    const current = hostsTried().length;
    // b's session breaks at once: a failure after open, so the backoff first (200 ms: the session was too short
    // to reset it), then discovery, since a and b are both avoided.
    server.current.serverClose(1006);
    await vi.advanceTimersByTimeAsync(201);
    expect(hostsTried().slice(current)).toEqual(['c']);
    expect(hints.at(-1)?.failed.sort()).toEqual(['a', 'b']);
  });

  it('moves on after a handshake timeout, marking the silent node', async () => {
    const { behaviour, connection, hostsTried, changes } = setup(() => listing('a', 'b'));
    behaviour.set('a', 'hang');
    connection.connect();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(connection.status).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1);
    expect(changes.at(-1)).toMatchObject({ reason: 'handshake-timeout', node: 'a', delayMs: 0 });
    await vi.advanceTimersByTimeAsync(1);
    expect(connection.status).toBe('open');
    expect(hostsTried()).toEqual(['a', 'b']);
  });

  it('goes back to discovery at once when every candidate failed, reporting them', async () => {
    let answer = listing('a', 'b');
    const { behaviour, connection, hints, hostsTried } = setup(() => answer);
    behaviour.set('a', 'refuse');
    behaviour.set('b', 'refuse');
    connection.connect();
    answer = listing('c');
    await vi.advanceTimersByTimeAsync(2);
    expect(connection.status).toBe('open');
    expect(hostsTried()).toEqual(['a', 'b', 'c']);
    expect(hints.map((h) => h.failed.sort())).toEqual([[], ['a', 'b']]);
  });

  it('leaves a full node for another at once, and names its delay when it is the only one', async () => {
    const two = setup(() => listing('full', 'b'));
    two.behaviour.set('full', 'overloaded');
    two.connection.connect();
    await vi.advanceTimersByTimeAsync(1);
    expect(two.connection.status).toBe('open');
    expect(two.hostsTried()).toEqual(['full', 'b']);

    const one = setup(() => listing('full'));
    one.behaviour.set('full', 'overloaded');
    one.connection.connect();
    await vi.advanceTimersByTimeAsync(1);
    const waiting = one.changes.filter((c) => c.status === 'reconnecting').at(-1);
    expect(waiting).toMatchObject({ reason: 'no-healthy-node' });
    expect(waiting?.delayMs).toBeGreaterThanOrEqual(3_000);
    one.behaviour.set('full', 'accept');
    await vi.advanceTimersByTimeAsync(2_900);
    expect(one.hostsTried()).toEqual(['full']); // not before the node's named delay
    await vi.advanceTimersByTimeAsync(waiting!.delayMs! - 2_900 + 1);
    expect(one.connection.status).toBe('open');
  });

  it('reports no-healthy-node and waits at least the named delay when discovery lists no healthy node', async () => {
    let answer: DiscoveryOutcome = { kind: 'none', retryAfterMs: 1_500 };
    const { connection, changes, server } = setup(() => answer);
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.at(-1)).toMatchObject({
      status: 'reconnecting',
      reason: 'no-healthy-node',
      delayMs: 1_600,
    });
    expect(server.sockets).toHaveLength(0);
    answer = listing('a');
    await vi.advanceTimersByTimeAsync(1_600);
    expect(connection.status).toBe('open');
  });

  it('treats an answer with an empty candidate list like no healthy node', async () => {
    const { connection, changes, server } = setup(() => ({
      kind: 'answer',
      answer: { wsUrl: 'ws://a.test/v1/ws', region: 'eu', candidates: [] },
    }));
    connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.at(-1)).toMatchObject({ status: 'reconnecting', reason: 'no-healthy-node' });
    expect(server.sockets).toHaveLength(0);
  });

  it('never spins while no node is healthy: attempts and discovery requests follow the growing backoff', async () => {
    const { connection, hints, server, changes } = setup(() => ({ kind: 'none', retryAfterMs: undefined }));
    connection.connect();
    await vi.advanceTimersByTimeAsync(60_000);
    // Delays 100, 200, 300, ... ms: about 34 rounds fit in a minute, one discovery request each.
    expect(hints.length).toBeLessThan(40);
    expect(server.sockets).toHaveLength(0);
    const delays = changes.filter((c) => c.status === 'reconnecting').map((c) => c.delayMs!);
    expect(delays.slice(0, 4)).toEqual([100, 200, 300, 400]);
  });

  it('follows a flapping node at a growing pace and prefers a steady one', async () => {
    const lone = setup(() => listing('flappy'));
    lone.behaviour.set('flappy', 'flap');
    lone.connection.connect();
    await vi.advanceTimersByTimeAsync(10_000);
    // Backoff 100, 200, 300, ... keeps growing: about a dozen sessions in 10 s, not hundreds.
    expect(lone.server.sockets.length).toBeLessThan(16);

    const pair = setup(() => listing('flappy', 'steady'));
    pair.behaviour.set('flappy', 'flap');
    pair.connection.connect();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pair.connection.status).toBe('open');
    expect(pair.hostsTried()).toEqual(['flappy', 'steady']);
  });
});
