import { CloseCode, type ErrorFrame, type HistoryPageFrame, msgpackCodec } from '@natter/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, signup, startServer, type TestServer, type TestUser } from './helpers/server.js';
import { RawClient } from './helpers/ws-client.js';

let ts: TestServer;
const clients: RawClient[] = [];

beforeEach(async () => {
  ts = await startServer({
    limits: { maxMessageBytes: 1024, maxFrameBytes: 4096, sendsPerSecond: 5, sendBurst: 5 },
  });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts.stop();
});

async function connect(user: TestUser, codec: 'msgpack' | 'json' = 'msgpack'): Promise<RawClient> {
  const c = await RawClient.connect(ts.url, user.accessToken, { codec });
  clients.push(c);
  return c;
}

async function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
  protocol = 'natter.v1.msgpack',
): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', reject);
  });
}

describe('handshake', () => {
  it('refuses an upgrade without a token, with a bad token, or from a foreign Origin', async () => {
    const alice = await signup(ts.url);
    const base = `${ts.url.replace('http', 'ws')}/v1/ws`;
    expect(await upgradeStatus(base)).toBe(401);
    expect(await upgradeStatus(`${base}?access_token=not-a-jwt`)).toBe(401);
    expect(
      await upgradeStatus(`${base}?access_token=${alice.accessToken}`, { origin: 'https://evil.example' }),
    ).toBe(403);
    expect(await upgradeStatus(`${base}?access_token=${alice.accessToken}`, {}, 'graphql-ws')).toBe(400);
    expect(await upgradeStatus(`${base}?access_token=${alice.accessToken}`, { origin: ts.url })).toBe(101);
  });
});

describe('malformed frames', () => {
  it('closes with 1002 on bytes that are not MessagePack', async () => {
    const c = await connect(await signup(ts.url));
    c.sendRaw(new Uint8Array([0xc1]));
    expect((await c.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it('closes with 1007 on a text frame over the MessagePack codec', async () => {
    const c = await connect(await signup(ts.url));
    c.sendRaw('{"t":"ping","rid":1}');
    expect((await c.closed).code).toBe(CloseCode.INVALID_PAYLOAD);
  });

  it('closes with 1002 on invalid JSON over the JSON codec', async () => {
    const c = await connect(await signup(ts.url), 'json');
    c.sendRaw('{"t":');
    expect((await c.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it('closes with 1009 on a frame larger than maxPayload', async () => {
    const c = await connect(await signup(ts.url));
    c.sendRaw(new Uint8Array(8192));
    expect((await c.closed).code).toBe(CloseCode.MESSAGE_TOO_BIG);
  });

  it('answers unknown and invalid frames with typed errors and keeps the connection', async () => {
    const c = await connect(await signup(ts.url));
    const unknown = (await c.request({ t: 'launch' } as never)) as ErrorFrame;
    expect(unknown).toMatchObject({ t: 'error', code: 'NATTER_UNKNOWN_FRAME' });
    const invalid = (await c.request({
      t: 'send',
      channelId: 'bad id!',
      clientMsgId: 'x',
      text: 'hi',
    })) as ErrorFrame;
    expect(invalid).toMatchObject({ t: 'error', code: 'NATTER_BAD_REQUEST' });
    c.sendRaw(msgpackCodec.encode([1, 2, 3]));
    expect(await c.waitFor((f) => f.t === 'error')).toMatchObject({ code: 'NATTER_BAD_REQUEST' });
    expect((await c.request({ t: 'ping' })).t).toBe('pong');
  });

  it('closes with 1008 after too many invalid frames', async () => {
    const c = await connect(await signup(ts.url));
    for (let i = 0; i < 25; i++) c.sendRaw(msgpackCodec.encode({ t: 'nope' }));
    expect((await c.closed).code).toBe(CloseCode.POLICY_VIOLATION);
  });
});

describe('authorization and limits', () => {
  it('answers a non-member exactly as for a channel that does not exist', async () => {
    const [alice, bob, eve] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    const dm = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/channels/direct', {
      userId: bob.id,
    });
    const e = await connect(eve);
    const intoReal = (await e.request({
      t: 'send',
      channelId: dm.body.channel.id,
      clientMsgId: 'e1',
      text: 'x',
    })) as ErrorFrame;
    const intoNone = (await e.request({
      t: 'send',
      channelId: 'd_DOESNOTEXIST',
      clientMsgId: 'e2',
      text: 'x',
    })) as ErrorFrame;
    expect(intoReal.code).toBe('NATTER_NOT_FOUND');
    expect({ ...intoReal, rid: 0 }).toEqual({ ...intoNone, rid: 0 });
    const readReal = (await e.request({ t: 'history', channelId: dm.body.channel.id })) as ErrorFrame;
    const readNone = (await e.request({ t: 'history', channelId: 'd_DOESNOTEXIST' })) as ErrorFrame;
    expect({ ...readReal, rid: 0 }).toEqual({ ...readNone, rid: 0 });
    const httpReal = await api(ts.url, eve, 'GET', `/v1/channels/${dm.body.channel.id}/messages`);
    const httpNone = await api(ts.url, eve, 'GET', '/v1/channels/d_DOESNOTEXIST/messages');
    expect(httpReal).toEqual(httpNone);
  });

  it('refuses an oversized message and stores nothing of it; other sessions are unaffected', async () => {
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const dm = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/channels/direct', {
      userId: bob.id,
    });
    const a = await connect(alice);
    const b = await connect(bob);
    const tooBig = (await a.request({
      t: 'send',
      channelId: dm.body.channel.id,
      clientMsgId: 'big',
      text: 'é'.repeat(600),
    })) as ErrorFrame;
    expect(tooBig.code).toBe('NATTER_MESSAGE_TOO_LARGE');
    const page = (await b.request({ t: 'history', channelId: dm.body.channel.id })) as HistoryPageFrame;
    expect(page.messages.filter((m) => m.kind === 'text')).toHaveLength(0);
    const ok = await b.request({
      t: 'send',
      channelId: dm.body.channel.id,
      clientMsgId: 'fine',
      text: 'still works',
    });
    expect(ok.t).toBe('ack');
  });

  it('rate-limits a burst of sends with a typed error carrying retryAfterMs', async () => {
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const dm = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/channels/direct', {
      userId: bob.id,
    });
    const a = await connect(alice);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        a.request({ t: 'send', channelId: dm.body.channel.id, clientMsgId: `r${i}`, text: 'x' }),
      ),
    );
    const limited = answers.filter((f) => f.t === 'error') as ErrorFrame[];
    expect(answers.filter((f) => f.t === 'ack')).toHaveLength(5);
    expect(limited).toHaveLength(5);
    for (const f of limited) {
      expect(f.code).toBe('NATTER_RATE_LIMITED');
      expect(f.retryAfterMs).toBeGreaterThan(0);
    }
  });

  it('answers bad HTTP input with 400 and an error code, and wrong credentials identically', async () => {
    const alice = await signup(ts.url);
    const bad = await api<{ error: { code: string } }>(ts.url, alice, 'POST', '/v1/groups', { name: 42 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('NATTER_BAD_REQUEST');
    const wrongPassword = await api(ts.url, undefined, 'POST', '/v1/auth/login', {
      username: alice.username,
      password: 'wrong password!',
    });
    const unknownUser = await api(ts.url, undefined, 'POST', '/v1/auth/login', {
      username: 'nobody_here',
      password: 'wrong password!',
    });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword).toEqual(unknownUser);
  });
});
