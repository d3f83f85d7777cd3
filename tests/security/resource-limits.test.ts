import { CloseCode, ErrorCode, type ServerFrame } from '@natter/protocol';
import { internalsOf } from '@natter/server-core/internals';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, signup, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

let ts: TestServer;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts?.stop();
});

async function connect(user: TestUser, device?: string): Promise<RawClient> {
  const c = await RawClient.connect(ts.url, user.accessToken, device ? { device } : {});
  clients.push(c);
  return c;
}

async function dmBetween(a: TestUser, b: TestUser): Promise<string> {
  const dm = await api<{ channel: { id: string } }>(ts.url, a, 'POST', '/v1/channels/direct', {
    userId: b.id,
  });
  return dm.body.channel.id;
}

/** Sends frames without waiting for answers (pipelined), with rids from `from`. */
function pipeline(client: RawClient, frames: object[], from = 10_000): void {
  for (const [i, frame] of frames.entries()) client.sendRaw(client.codec.encode({ ...frame, rid: from + i }));
}

const isError = (f: ServerFrame, code: string) => f.t === 'error' && f.code === code;
async function errorsCounted(server: TestServer, code: string): Promise<number> {
  const text = await server.server.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.includes(`code="${code}"`) && !l.startsWith('#'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outgoing buffer bound on replies', () => {
  it('closes with 1008 a client that floods history requests and never reads', async () => {
    ts = await startServer({
      maxBufferedBytes: 128 * 1024,
      resourceLimits: {
        frameRates: {
          history: {
            socket: { perSecond: 10_000, burst: 10_000 },
            user: { perSecond: 10_000, burst: 10_000 },
          },
        },
        maxInFlightPerConnection: 10_000,
      },
      limits: { sendsPerSecond: 10_000, sendBurst: 10_000 },
    });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const channelId = await dmBetween(alice, bob);
    const writer = await connect(alice);
    const text = 'y'.repeat(8_000);
    for (let i = 0; i < 40; i++) await writer.request({ t: 'send', channelId, clientMsgId: `m${i}`, text });
    const flooder = await connect(bob);
    // Bob stops reading: every history page (~320 KB) piles up in the server's queue for his socket.
    (flooder.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const requests = Array.from({ length: 400 }, () => ({ t: 'history', channelId, limit: 200 }));
    pipeline(flooder, requests);
    // The paused client cannot read the close frame, so the server's side is what the test looks at.
    const deadline = Date.now() + 15_000;
    while (internalsOf(ts.server).hub.endpointsOf(bob.id).size > 0 && Date.now() < deadline) await settle(20);
    expect(internalsOf(ts.server).hub.endpointsOf(bob.id).size).toBe(0);
    expect(await errorsCounted(ts, `close_${CloseCode.POLICY_VIOLATION}`)).toBeGreaterThanOrEqual(1);
    // Others are unaffected.
    const ack = await writer.request({ t: 'send', channelId, clientMsgId: 'after', text: 'still here' });
    expect(ack.t).toBe('ack');
  }, 30_000);
});

describe('frame rates', () => {
  it('limits every request kind per socket with NATTER_RATE_LIMITED and retryAfterMs', async () => {
    ts = await startServer({
      resourceLimits: { frameRates: { read: { socket: { perSecond: 1, burst: 3 } } } },
    });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const channelId = await dmBetween(alice, bob);
    const c = await connect(alice);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => c.request({ t: 'read', channelId, seq: 0 })),
    );
    expect(answers.filter((f) => f.t === 'read.ok')).toHaveLength(3);
    const refused = answers.filter((f) => isError(f, ErrorCode.RATE_LIMITED));
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatchObject({ retryAfterMs: expect.any(Number) });
  });

  it('counts a user across sockets: two sockets share the user bucket', async () => {
    ts = await startServer({
      resourceLimits: {
        frameRates: { history: { socket: { perSecond: 1, burst: 4 }, user: { perSecond: 1, burst: 4 } } },
      },
    });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const channelId = await dmBetween(alice, bob);
    const first = await connect(alice, 'dev_a');
    const second = await connect(alice, 'dev_b');
    const ask = (c: RawClient) => c.request({ t: 'history', channelId });
    const answers = await Promise.all([
      ask(first),
      ask(first),
      ask(first),
      ask(second),
      ask(second),
      ask(second),
    ]);
    expect(answers.filter((f) => f.t === 'history.page')).toHaveLength(4);
    expect(answers.filter((f) => isError(f, ErrorCode.RATE_LIMITED))).toHaveLength(2);
  });

  it('closes a socket with 1008 after a flood of refused frames', async () => {
    ts = await startServer({ resourceLimits: { maxRateLimitStrikes: 10 } });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const channelId = await dmBetween(alice, bob);
    const c = await connect(alice);
    pipeline(
      c,
      Array.from({ length: 200 }, () => ({ t: 'read', channelId, seq: 0 })),
    );
    expect((await c.closed).code).toBe(CloseCode.POLICY_VIOLATION);
  });

  it('coalesces typing past its rate: the peer gets a few frames and the latest state', async () => {
    ts = await startServer();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const channelId = await dmBetween(alice, bob);
    const typist = await connect(alice);
    const peer = await connect(bob);
    const frames = Array.from({ length: 100 }, (_, i) => ({ t: 'typing', channelId, active: i < 99 }));
    pipeline(typist, frames);
    const last = await peer.waitFor((f) => f.t === 'typing' && !f.active, 5_000);
    expect(last).toMatchObject({ userId: alice.id, active: false });
    const typing = peer.frames.filter((f) => f.t === 'typing');
    // The burst of 4, then the held latest state: far fewer than 100.
    expect(typing.length).toBeLessThanOrEqual(6);
    expect(typist.frames.filter((f) => f.t === 'error')).toHaveLength(0);
  });

  it('coalesces status flips: each is answered, the peer sees a few, the last one wins', async () => {
    ts = await startServer();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    await dmBetween(alice, bob);
    const flipper = await connect(alice);
    const peer = await connect(bob);
    await settle(200);
    const before = peer.frames.filter((f) => f.t === 'presence').length;
    const statuses = Array.from({ length: 200 }, (_, i) => ({
      t: 'status',
      status: i % 2 ? 'online' : 'away',
    }));
    pipeline(flipper, [...statuses, { t: 'status', status: 'away' }], 1);
    await flipper.seen((f) => f.t === 'status.ok' && f.rid === 201, 5_000);
    expect(flipper.frames.filter((f) => f.t === 'status.ok')).toHaveLength(201);
    await settle(2_500);
    const pushed = peer.frames.filter((f) => f.t === 'presence').slice(before);
    expect(pushed.length).toBeLessThanOrEqual(8);
    const list = await peer.request({ t: 'presence.get', userIds: [alice.id] });
    expect(list).toMatchObject({ t: 'presence.list', users: [{ userId: alice.id, status: 'away' }] });
  });

  it('refuses requests past the in-flight bound of a connection', async () => {
    ts = await startServer({
      resourceLimits: {
        maxInFlightPerConnection: 2,
        frameRates: {
          history: { socket: { perSecond: 100, burst: 100 }, user: { perSecond: 100, burst: 100 } },
        },
      },
    });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const channelId = await dmBetween(alice, bob);
    const c = await connect(alice);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => c.request({ t: 'history', channelId })),
    );
    const refused = answers.filter((f) => isError(f, ErrorCode.RATE_LIMITED));
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]).toMatchObject({ message: expect.stringContaining('in flight') });
    expect(answers.filter((f) => f.t === 'history.page').length).toBeGreaterThanOrEqual(2);
  });
});

describe('connection caps', () => {
  it('closes a user’s socket past maxConnectionsPerUser with 4029, and admits again after one closes', async () => {
    ts = await startServer({ resourceLimits: { maxConnectionsPerUser: 2 } });
    const alice = await signup(ts.url);
    const first = await connect(alice, 'dev_1');
    await connect(alice, 'dev_2');
    const url = new URL('/v1/ws', ts.url.replace(/^http/, 'ws'));
    url.searchParams.set('access_token', alice.accessToken);
    const third = new WebSocket(url);
    // Refused at the upgrade (429 with Retry-After); a socket that got past it would be closed with 4029.
    const refused = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve) => {
      third.on('unexpected-response', (_req, res) =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'] as string | undefined,
        }),
      );
      third.on('close', (code) => resolve({ status: code, retryAfter: undefined }));
      third.on('error', () => undefined);
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    first.close();
    await first.closed;
    await settle(50);
    const again = await connect(alice, 'dev_3');
    expect(again.hello.userId).toBe(alice.id);
  });

  it('closes with 4029 a session past the cap that arrives through another transport (accept)', async () => {
    ts = await startServer({ resourceLimits: { maxConnectionsPerUser: 1 } });
    const alice = await signup(ts.url);
    await connect(alice, 'dev_1');
    const closes: Array<{ code: number; reason: string }> = [];
    ts.server.accept({ userId: alice.id }, 'dev_2', {
      send() {},
      close: (code, reason) => closes.push({ code, reason }),
      bufferedBytes: () => 0,
    });
    await settle(50);
    expect(closes[0]?.code).toBe(CloseCode.TOO_MANY_CONNECTIONS);
    expect(closes[0]?.reason).toMatch(/too many connections; retryAfterMs=\d+/);
  });

  it('answers 429 to an upgrade past maxConnectionsPerAddress, before authentication', async () => {
    ts = await startServer({ resourceLimits: { maxConnectionsPerAddress: 3 } });
    const alice = await signup(ts.url);
    for (let i = 0; i < 3; i++) await connect(alice, `dev_${i}`);
    const url = new URL('/v1/ws', ts.url.replace(/^http/, 'ws'));
    url.searchParams.set('access_token', 'not even a token');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(429);
    const health = await fetch(`${ts.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
