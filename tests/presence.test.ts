import type {
  PresenceFrame,
  PresenceListFrame,
  ReadOkFrame,
  ReceiptFrame,
  TypingEventFrame,
} from '@natter/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer, type TestUser } from './helpers/server.js';
import { RawClient } from './helpers/ws-client.js';

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

const presenceOf = (c: RawClient, userId: string) =>
  c.frames
    .filter((f): f is PresenceFrame => f.t === 'presence' && f.user.userId === userId)
    .map((f) => f.user.status);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dm(a: TestUser, b: TestUser): Promise<string> {
  const res = await api<{ channel: { id: string } }>(ts.url, a, 'POST', '/v1/channels/direct', {
    userId: b.id,
  });
  return res.body.channel.id;
}

describe('presence', () => {
  it('reports online at once, and offline only after the grace period; a quick reconnect causes no flap', async () => {
    ts = await startServer({ presence: { graceMs: 600 } });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    await dm(alice, bob);
    const watcher = await connect(bob);
    watcher.heartbeat(100);
    const a1 = await connect(alice, 'phone');
    await watcher.seen((f) => f.t === 'presence' && f.user.userId === alice.id && f.user.status === 'online');

    a1.socket.terminate();
    await sleep(150);
    const a2 = await connect(alice, 'phone');
    a2.heartbeat(100);
    await sleep(1_000);
    expect(presenceOf(watcher, alice.id)).toEqual(['online']);

    a2.close();
    const offline = (await watcher.waitFor(
      (f) => f.t === 'presence' && f.user.status === 'offline',
    )) as PresenceFrame;
    expect(offline.user.userId).toBe(alice.id);
    expect(offline.user.lastActiveAt).toBeGreaterThan(0);
  });

  it('marks a client that vanished without a close frame offline after missed heartbeats', async () => {
    ts = await startServer({ presence: { graceMs: 400 }, limits: { heartbeatTimeoutMs: 800 } });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    await dm(alice, bob);
    const watcher = await connect(bob);
    const ghost = await connect(alice);
    // The ghost's last sign of life is its connect: the heartbeat timeout and the grace run from there, so
    // the clock starts here (on a loaded machine the wait below can outlast the timeout itself).
    const started = Date.now();
    await watcher.seen((f) => f.t === 'presence' && f.user.userId === alice.id && f.user.status === 'online');
    // Stop reading and writing without closing: a half-open connection, as when a phone loses signal.
    ghost.socket.pause();
    // The watcher keeps heartbeating so that only the ghost goes silent.
    watcher.heartbeat(100);
    await watcher.waitFor(
      (f) => f.t === 'presence' && f.user.userId === alice.id && f.user.status === 'offline',
      5_000,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('keeps a user online while any device is connected', async () => {
    ts = await startServer({ presence: { graceMs: 300 } });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    await dm(alice, bob);
    const watcher = await connect(bob);
    const phone = await connect(alice, 'phone');
    const laptop = await connect(alice, 'laptop');
    await watcher.seen((f) => f.t === 'presence' && f.user.userId === alice.id);
    laptop.heartbeat(100);
    watcher.heartbeat(100);
    phone.close();
    await sleep(900);
    expect(presenceOf(watcher, alice.id)).toEqual(['online']);
    const list = (await watcher.request({ t: 'presence.get', userIds: [alice.id] })) as PresenceListFrame;
    expect(list.users).toEqual([{ userId: alice.id, status: 'online', lastActiveAt: expect.any(Number) }]);
  });

  it('pushes only to people who share a channel, and tells strangers nothing', async () => {
    ts = await startServer({ presence: { graceMs: 300 } });
    const [alice, bob, stranger] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    await dm(alice, bob);
    const b = await connect(bob);
    const s = await connect(stranger);
    await connect(alice);
    await b.seen((f) => f.t === 'presence' && f.user.userId === alice.id);
    await sleep(200);
    expect(presenceOf(s, alice.id)).toEqual([]);
    const asked = (await s.request({ t: 'presence.get', userIds: [alice.id] })) as PresenceListFrame;
    expect(asked.users).toEqual([]);
    const http = await api<{ users: unknown[] }>(ts.url, stranger, 'GET', `/v1/presence?userIds=${alice.id}`);
    expect(http.body.users).toEqual([]);
  });

  it('does not push presence through channels above the fanout threshold, but answers on demand', async () => {
    ts = await startServer({ presence: { graceMs: 300, fanoutMaxMembers: 3 } });
    const users = await Promise.all(Array.from({ length: 4 }, () => signup(ts.url)));
    const [owner, ...rest] = users as [TestUser, ...TestUser[]];
    const group = await api<{ channel: { id: string } }>(ts.url, owner, 'POST', '/v1/groups', {
      name: 'big',
      memberIds: rest.map((u) => u.id),
    });
    const watcher = await connect(rest[0]!);
    (await connect(owner)).heartbeat(100);
    await sleep(400);
    expect(presenceOf(watcher, owner.id)).toEqual([]);
    const list = (await watcher.request({
      t: 'presence.get',
      channelId: group.body.channel.id,
    })) as PresenceListFrame;
    expect(list.users.find((u) => u.userId === owner.id)?.status).toBe('online');
  });

  it('shows invisible users as offline', async () => {
    ts = await startServer({ presence: { graceMs: 300 } });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    await dm(alice, bob);
    const b = await connect(bob);
    const a = await connect(alice);
    a.heartbeat(100);
    await b.seen((f) => f.t === 'presence' && f.user.userId === alice.id && f.user.status === 'online');
    expect((await a.request({ t: 'status', status: 'invisible' })).t).toBe('status.ok');
    await b.seen((f) => f.t === 'presence' && f.user.userId === alice.id && f.user.status === 'offline');
    const list = (await b.request({ t: 'presence.get', userIds: [alice.id] })) as PresenceListFrame;
    expect(list.users[0]?.status).toBe('offline');
  });
});

describe('typing and receipts', () => {
  it('relays typing to the other members only, with an expiry, and never stores it', async () => {
    ts = await startServer();
    const [alice, bob, eve] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    const channelId = await dm(alice, bob);
    const a = await connect(alice);
    const b = await connect(bob);
    const e = await connect(eve);
    a.sendRaw(a.codec.encode({ t: 'typing', rid: 900, channelId }));
    const typing = (await b.waitFor((f) => f.t === 'typing')) as TypingEventFrame;
    expect(typing).toEqual({ t: 'typing', channelId, userId: alice.id, active: true, expiresInMs: 5000 });
    await sleep(100);
    expect(a.frames.some((f) => f.t === 'typing')).toBe(false);
    expect(e.frames.some((f) => f.t === 'typing')).toBe(false);
    const history = await api<{ messages: unknown[] }>(
      ts.url,
      bob,
      'GET',
      `/v1/channels/${channelId}/messages`,
    );
    expect(history.body.messages).toHaveLength(1); // only the "created" system message
    // A stranger typing into the channel gets NOT_FOUND and reaches no one.
    const refused = await e.request({ t: 'typing', channelId });
    expect(refused).toMatchObject({ t: 'error', code: 'NATTER_NOT_FOUND' });
  });

  it('clears the unread count on every device when one device reads, and tells the sender', async () => {
    ts = await startServer();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const channelId = await dm(alice, bob);
    const a = await connect(alice);
    const bobPhone = await connect(bob, 'phone');
    const bobLaptop = await connect(bob, 'laptop');
    let last = 0;
    for (let i = 0; i < 3; i++) {
      const ack = await a.request({ t: 'send', channelId, clientMsgId: `u${i}`, text: `hi ${i}` });
      if (ack.t === 'ack') last = ack.entry.message.seq;
    }
    const before = await api<{ channels: Array<{ id: string; unread: number }> }>(
      ts.url,
      bob,
      'GET',
      '/v1/channels',
    );
    expect(before.body.channels.find((c) => c.id === channelId)?.unread).toBe(3);

    const ok = (await bobPhone.request({ t: 'read', channelId, seq: last })) as ReadOkFrame;
    expect(ok).toMatchObject({ t: 'read.ok', readSeq: last, unread: 0 });
    const onLaptop = (await bobLaptop.seen((f) => f.t === 'receipt' && f.readSeq === last)) as ReceiptFrame;
    expect(onLaptop).toMatchObject({ channelId, userId: bob.id, readSeq: last });
    const toSender = (await a.seen((f) => f.t === 'receipt' && f.readSeq === last)) as ReceiptFrame;
    expect(toSender).toMatchObject({ userId: bob.id, readSeq: last, deliveredSeq: last });
    const after = await api<{ channels: Array<{ id: string; unread: number }> }>(
      ts.url,
      bob,
      'GET',
      '/v1/channels',
    );
    expect(after.body.channels.find((c) => c.id === channelId)?.unread).toBe(0);
    const receipts = await api<{ receipts: Array<{ userId: string; readSeq: number }> }>(
      ts.url,
      alice,
      'GET',
      `/v1/channels/${channelId}/receipts`,
    );
    expect(receipts.body.receipts.find((r) => r.userId === bob.id)?.readSeq).toBe(last);
  });
});
