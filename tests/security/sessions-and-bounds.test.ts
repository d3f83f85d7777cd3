import { readdirSync } from 'node:fs';
import { CloseCode, msgpackCodec, SUBPROTOCOL_MSGPACK } from '@natter/protocol';
import { internalsOf } from '@natter/server-core/internals';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, signup, startServer, TEST_SECRET, type TestServer, type TestUser } from '../helpers/server.js';
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

async function login(user: TestUser, deviceId: string): Promise<TestUser> {
  const res = await api<{ accessToken: string; refreshToken: string }>(
    ts.url,
    undefined,
    'POST',
    '/v1/auth/login',
    {
      username: user.username,
      password: 'correct horse battery',
      deviceId,
    },
  );
  expect(res.status).toBe(200);
  return { ...user, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken, deviceId };
}

function upgrade(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws?access_token=${token}`, SUBPROTOCOL_MSGPACK);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', reject);
  });
}

describe('session security', () => {
  it('closes a socket with 4001 when its access token expires', async () => {
    // `exp` has whole seconds, so a token lives between ttl-1 and ttl seconds; signup's scrypt can
    // take a second on a loaded machine. A fresh token from the (cheap) refresh route, with three
    // seconds of life, is still valid when the socket opens and expires well within the bound.
    ts = await startServer({ tokens: { secret: TEST_SECRET, accessTtlSeconds: 3 } });
    const alice = await signup(ts.url);
    const refreshed = await api<{ accessToken: string }>(ts.url, undefined, 'POST', '/v1/auth/refresh', {
      refreshToken: alice.refreshToken,
    });
    expect(refreshed.status).toBe(200);
    const started = Date.now();
    const c = await connect({ ...alice, accessToken: refreshed.body.accessToken });
    const closed = await c.closed;
    expect(closed.code).toBe(CloseCode.TOKEN_EXPIRED);
    expect(Date.now() - started).toBeLessThan(4_500);
  });

  it('closes the logged-out device’s sockets with 4003 within a second, and only that device’s', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const phone = await login(alice, 'phone');
    const laptop = await login(alice, 'laptop');
    const phoneSocket = await connect(phone);
    const laptopSocket = await connect(laptop);
    const started = Date.now();
    expect((await api(ts.url, phone, 'POST', '/v1/auth/logout', {})).status).toBe(204);
    expect((await phoneSocket.closed).code).toBe(CloseCode.SESSION_REVOKED);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await laptopSocket.request({ t: 'ping' })).t).toBe('pong');
    // The refresh token of the logged-out device no longer works.
    const refresh = await api(ts.url, undefined, 'POST', '/v1/auth/refresh', {
      refreshToken: phone.refreshToken,
    });
    expect(refresh.status).toBe(401);
  });

  it('refuses tokens outside the algorithm allowlist, unsigned ones, and ones signed with another key', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const claims = { sub: alice.id, did: 'x', iss: 'natter', exp: Math.floor(Date.now() / 1000) + 600 };
    const unsigned = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512' })
      .sign(new TextEncoder().encode(TEST_SECRET));
    const otherKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    expect(await upgrade(ts.url, unsigned)).toBe(401);
    expect(await upgrade(ts.url, hs512)).toBe(401);
    expect(await upgrade(ts.url, otherKey)).toBe(401);
    expect(await upgrade(ts.url, alice.accessToken)).toBe(101);
  });
});

describe('resource bounds', () => {
  it('closes a slow consumer that never reads once its buffer passes the bound; others are unaffected', async () => {
    ts = await startServer({
      maxBufferedBytes: 256 * 1024,
      limits: { sendsPerSecond: 10_000, sendBurst: 10_000 },
    });
    const [alice, bob, carol] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    const group = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/groups', {
      name: 'g',
      memberIds: [bob.id, carol.id],
    });
    const channelId = group.body.channel.id;
    const sender = await connect(alice);
    const sleeper = await connect(bob);
    const reader = await connect(carol);
    // Bob's client stops reading from its socket: the kernel buffers fill, then the server's queue grows.
    (sleeper.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const text = 'x'.repeat(15_000);
    let closedCode: number | undefined;
    void sleeper.closed.then((c) => {
      closedCode = c.code;
    });
    for (let i = 0; i < 2_000 && closedCode === undefined; i++) {
      await sender.request({ t: 'send', channelId, clientMsgId: `s${i}`, text });
      if (i % 50 === 0 && internalsOf(ts.server).hub.endpointsOf(bob.id).size === 0) break;
    }
    expect(internalsOf(ts.server).hub.endpointsOf(bob.id).size).toBe(0);
    // Carol, reading normally, got everything.
    const acked = sender.frames.filter((f) => f.t === 'ack').length;
    const got = await reader.waitForEntries(acked, 20_000);
    expect(got.filter((e) => e.message.kind === 'text')).toHaveLength(acked);
  }, 60_000);

  it('rate-limits a flood of sends with typed errors, then closes it with 1008', async () => {
    ts = await startServer({ limits: { sendsPerSecond: 5, sendBurst: 5 } });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const dm = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/channels/direct', {
      userId: bob.id,
    });
    const flooder = await connect(alice);
    const bystander = await connect(bob);
    for (let i = 0; i < 200; i++) {
      flooder.sendRaw(
        msgpackCodec.encode({
          t: 'send',
          rid: i,
          channelId: dm.body.channel.id,
          clientMsgId: `f${i}`,
          text: 'spam',
        }),
      );
    }
    expect((await flooder.closed).code).toBe(CloseCode.POLICY_VIOLATION);
    expect(
      flooder.frames.some(
        (f) => f.t === 'error' && f.code === 'NATTER_RATE_LIMITED' && (f.retryAfterMs ?? 0) > 0,
      ),
    ).toBe(true);
    expect((await bystander.request({ t: 'ping' })).t).toBe('pong');
  });

  it('never negotiates permessage-deflate, so compression bombs cannot be sent', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const ws = new WebSocket(
      `${ts.url.replace('http', 'ws')}/v1/ws?access_token=${alice.accessToken}`,
      SUBPROTOCOL_MSGPACK,
      {
        perMessageDeflate: true,
      },
    );
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(ws.extensions).toBe('');
    ws.close();
  });

  it('keeps memory and file descriptors flat over repeated connect/send/disconnect cycles (bounded soak)', async () => {
    ts = await startServer({ limits: { sendsPerSecond: 10_000, sendBurst: 10_000 } });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const dm = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/channels/direct', {
      userId: bob.id,
    });
    const fds = () => readdirSync('/proc/self/fd').length;
    const cycle = async (round: number) => {
      const a = await RawClient.connect(ts.url, alice.accessToken);
      const b = await RawClient.connect(ts.url, bob.accessToken);
      for (let i = 0; i < 20; i++)
        await a.request({
          t: 'send',
          channelId: dm.body.channel.id,
          clientMsgId: `k${round}-${i}`,
          text: 'soak',
        });
      await b.waitForEntries(20);
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
    };
    for (let r = 0; r < 20; r++) await cycle(r);
    global.gc?.();
    const fdsBefore = fds();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let r = 20; r < 120; r++) await cycle(r);
    await new Promise((r) => setTimeout(r, 200));
    global.gc?.();
    expect(fds() - fdsBefore).toBeLessThanOrEqual(4);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(50 * 1024 * 1024);
    expect(internalsOf(ts.server).hub.endpointsOf(alice.id).size).toBe(0);
  }, 120_000);
});
