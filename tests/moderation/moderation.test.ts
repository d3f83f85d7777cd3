import { ErrorCode, type NatterEvent, type ServerFrame } from '@natter/protocol';
import type { EventSink } from '@natter/server-core';
import { afterEach, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const API_KEY = 'moderation-test-key-moderation-test-key-0123';

let ts: TestServer;
let clock: number | undefined;
const clients: RawClient[] = [];
const events: NatterEvent[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  events.length = 0;
  clock = undefined;
  await ts?.stop();
});

/** Records the server's events in memory, as @natter/webhooks would record them before delivery. */
const recordingSink = (): EventSink => ({
  publish: (batch) => void events.push(...batch),
  start: async () => undefined,
  stop: async () => undefined,
});

async function start(options: { reportBurst?: number } = {}) {
  ts = await startServer({
    events: recordingSink,
    serverApi: { keys: [{ name: 'moderators', key: API_KEY, scopes: ['reports:write', 'users:write'] }] },
    now: () => clock ?? Date.now(),
    resourceLimits: {
      signupsPerAddress: { perSecond: 1_000, burst: 1_000 },
      connectsPerUser: { perSecond: 1_000, burst: 1_000 },
      handshakesPerAddress: { perSecond: 1_000, burst: 1_000 },
      reportsPerUser: { perSecond: 1 / 3600, burst: options.reportBurst ?? 10 },
    },
  });
  return ts;
}

async function connect(user: TestUser): Promise<RawClient> {
  const client = await RawClient.connect(ts.url, user.accessToken);
  clients.push(client);
  return client;
}

async function direct(a: TestUser, b: TestUser): Promise<string> {
  const res = await api<{ channel: { id: string } }>(ts.url, a, 'POST', '/v1/channels/direct', {
    userId: b.id,
  });
  return res.body.channel.id;
}

async function group(owner: TestUser, members: TestUser[]): Promise<string> {
  const res = await api<{ channel: { id: string } }>(ts.url, owner, 'POST', '/v1/groups', {
    name: 'Team',
    memberIds: members.map((m) => m.id),
  });
  expect(res.status).toBe(201);
  return res.body.channel.id;
}

async function texts(user: TestUser, channelId: string): Promise<string[]> {
  const page = await api<{ messages: { text: string; kind: string }[] }>(
    ts.url,
    user,
    'GET',
    `/v1/channels/${channelId}/messages`,
  );
  return page.body.messages.filter((m) => m.kind === 'text').map((m) => m.text);
}

const block = (by: TestUser, target: TestUser) => api(ts.url, by, 'PUT', `/v1/blocks/${target.id}`);
const serverApi = (method: string, path: string, body?: unknown) =>
  fetch(`${ts.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

/** Waits `ms` and returns the frames of `type` the client got meanwhile. */
async function framesDuring(client: RawClient, type: string, ms: number): Promise<ServerFrame[]> {
  const seen: ServerFrame[] = [];
  await client
    .seen((f) => {
      if (f.t === type) seen.push(f);
      return false;
    }, ms)
    .catch(() => undefined);
  return seen;
}

describe('block', () => {
  it('refuses the blocked user’s 1-1 messages with a code that does not name the block, stores nothing, and lifts with unblock', async () => {
    await start();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const dm = await direct(alice, bob);
    const aliceWs = await connect(alice);
    expect((await block(bob, alice)).status).toBe(204);
    expect((await block(bob, alice)).status).toBe(204); // idempotent
    const refused = await aliceWs.request({ t: 'send', channelId: dm, clientMsgId: 'm1', text: 'hey' });
    expect(refused).toMatchObject({ t: 'error', code: ErrorCode.RECIPIENT_UNAVAILABLE });
    expect(JSON.stringify(refused)).not.toMatch(/block/i);
    expect(await texts(bob, dm)).toEqual([]);
    const list = await api<{ blocks: { userId: string }[] }>(ts.url, bob, 'GET', '/v1/blocks');
    expect(list.body.blocks.map((b) => b.userId)).toEqual([alice.id]);
    // The blocker may still write (say, to explain); the block is about what the blocker receives.
    const bobWs = await connect(bob);
    expect(await bobWs.request({ t: 'send', channelId: dm, clientMsgId: 'b1', text: 'bye' })).toMatchObject({
      t: 'ack',
    });
    expect((await api(ts.url, bob, 'DELETE', `/v1/blocks/${alice.id}`)).status).toBe(204);
    expect(
      await aliceWs.request({ t: 'send', channelId: dm, clientMsgId: 'm2', text: 'sorry' }),
    ).toMatchObject({ t: 'ack' });
    expect(await texts(bob, dm)).toEqual(['bye', 'sorry']);
    expect((await api<{ blocks: unknown[] }>(ts.url, bob, 'GET', '/v1/blocks')).body.blocks).toEqual([]);
  });

  it('answers a deactivated peer’s 1-1 channel with the same code, so a block cannot be told apart', async () => {
    await start();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const dm = await direct(alice, bob);
    const deactivated = await serverApi('POST', `/v1/server/users/${bob.id}/deactivate`);
    expect(deactivated.status).toBe(200);
    const ws = await connect(alice);
    const answer = await ws.request({ t: 'send', channelId: dm, clientMsgId: 'm1', text: 'hi' });
    expect(answer).toMatchObject({
      t: 'error',
      code: ErrorCode.RECIPIENT_UNAVAILABLE,
      message: 'this user is not taking messages',
    });
  });

  it('hides presence both ways: no presence frames and presence.get answers as for a stranger, while a third user sees both', async () => {
    await start();
    const [alice, bob, carol] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    await direct(alice, bob);
    await group(carol, [alice, bob]);
    await block(bob, alice);
    const [aliceWs, bobWs, carolWs] = [await connect(alice), await connect(bob), await connect(carol)];
    for (const [viewer, other] of [
      [aliceWs, bob],
      [bobWs, alice],
    ] as const) {
      const answer = await viewer.request({ t: 'presence.get', userIds: [other.id] });
      expect(answer).toMatchObject({ t: 'presence.list', users: [] });
    }
    expect(await carolWs.request({ t: 'presence.get', userIds: [alice.id, bob.id] })).toMatchObject({
      users: [{ userId: alice.id }, { userId: bob.id }],
    });
    const bobSees = framesDuring(bobWs, 'presence', 600);
    const aliceSees = framesDuring(aliceWs, 'presence', 600);
    const carolSees = framesDuring(carolWs, 'presence', 600);
    await aliceWs.request({ t: 'status', status: 'away' });
    await bobWs.request({ t: 'status', status: 'away' });
    expect((await bobSees).filter((f) => f.t === 'presence' && f.user.userId === alice.id)).toEqual([]);
    expect((await aliceSees).filter((f) => f.t === 'presence' && f.user.userId === bob.id)).toEqual([]);
    const carolGot = (await carolSees).map((f) => (f.t === 'presence' ? f.user.userId : ''));
    expect(carolGot).toEqual(expect.arrayContaining([alice.id, bob.id]));
    const http = await api<{ users: unknown[] }>(ts.url, alice, 'GET', `/v1/presence?userIds=${bob.id}`);
    expect(http.body.users).toEqual([]);
  });

  it('hides typing both ways in a shared group, while the group’s messages still reach both', async () => {
    await start();
    const [alice, bob, carol] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    const team = await group(carol, [alice, bob]);
    await block(alice, bob);
    const [aliceWs, bobWs, carolWs] = [await connect(alice), await connect(bob), await connect(carol)];
    const bobTyping = framesDuring(bobWs, 'typing', 600);
    const aliceTyping = framesDuring(aliceWs, 'typing', 600);
    void aliceWs.request({ t: 'typing', channelId: team, active: true }).catch(() => undefined);
    void bobWs.request({ t: 'typing', channelId: team, active: true }).catch(() => undefined);
    await carolWs.seen((f) => f.t === 'typing' && f.userId === alice.id);
    await carolWs.seen((f) => f.t === 'typing' && f.userId === bob.id);
    expect(await bobTyping).toEqual([]);
    expect(await aliceTyping).toEqual([]);
    expect(
      await bobWs.request({ t: 'send', channelId: team, clientMsgId: 'g1', text: 'group still works' }),
    ).toMatchObject({ t: 'ack' });
    expect(await texts(alice, team)).toEqual(['group still works']);
  });

  it('answers the blocked user adding the blocker to a group exactly as for an unknown user', async () => {
    await start();
    const [alice, bob, carol] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    await block(bob, alice);
    const team = await group(alice, [carol]);
    const add = await api(ts.url, alice, 'POST', `/v1/groups/${team}/members`, { userIds: [bob.id] });
    const unknown = await api(ts.url, alice, 'POST', `/v1/groups/${team}/members`, { userIds: ['u_nobody'] });
    expect(add).toEqual(unknown);
    expect(add.status).toBe(404);
    const create = await api(ts.url, alice, 'POST', '/v1/groups', { name: 'x', memberIds: [bob.id] });
    expect(create).toEqual(
      await api(ts.url, alice, 'POST', '/v1/groups', { name: 'x', memberIds: ['u_nobody'] }),
    );
    // Carol (not blocked) may add bob to the same group: alice and bob then share it.
    expect(
      (await api(ts.url, carol, 'POST', `/v1/groups/${team}/members`, { userIds: [bob.id] })).status,
    ).toBe(200);
    // Bob is now a visible member: alice "adding" him again is the usual no-op, not a 404 that would tell.
    expect(
      (await api(ts.url, alice, 'POST', `/v1/groups/${team}/members`, { userIds: [bob.id] })).status,
    ).toBe(200);
  });
});

describe('report', () => {
  it('stores a member’s message report with a snapshot that outlives a delete, emits user.reported, and lets the app resolve it', async () => {
    await start();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const team = await group(alice, [bob]);
    const bobWs = await connect(bob);
    const ack = await bobWs.request({
      t: 'send',
      channelId: team,
      clientMsgId: 'spam1',
      text: 'buy cheap pills',
    });
    const seq = ack.t === 'ack' ? ack.entry.message.seq : 0;
    const res = await api<{ report: { id: string; userId: string; message: { text: string } } }>(
      ts.url,
      alice,
      'POST',
      '/v1/reports',
      { target: { kind: 'message', channelId: team, seq }, reason: 'spam', note: 'ads again' },
    );
    expect(res.status).toBe(201);
    expect(res.body.report).toMatchObject({
      userId: bob.id,
      status: 'open',
      message: { text: 'buy cheap pills', senderId: bob.id },
    });
    expect(await bobWs.request({ t: 'delete', clientId: 'd1', channelId: team, seq })).toMatchObject({
      t: 'mutated',
    });
    const listed = await serverApi('GET', '/v1/server/reports?status=open');
    expect(listed.body).toMatchObject({
      reports: [{ id: res.body.report.id, message: { text: 'buy cheap pills' } }],
      hasMore: false,
    });
    const event = events.find((e) => e.type === 'user.reported');
    expect(event?.data).toMatchObject({
      reportId: res.body.report.id,
      reporterId: alice.id,
      userId: bob.id,
      channelId: team,
      seq,
      reason: 'spam',
      note: 'ads again',
    });
    const resolved = await serverApi('POST', `/v1/server/reports/${res.body.report.id}/resolve`, {
      outcome: 'actioned',
    });
    expect(resolved.body).toMatchObject({
      report: { status: 'resolved', resolution: { outcome: 'actioned' } },
    });
    expect(
      (await serverApi('POST', `/v1/server/reports/${res.body.report.id}/resolve`, { outcome: 'dismissed' }))
        .status,
    ).toBe(409);
    expect((await serverApi('GET', '/v1/server/reports?status=open')).body).toMatchObject({ reports: [] });
    expect((await serverApi('GET', '/v1/server/reports')).body).toMatchObject({
      reports: [{ status: 'resolved' }],
    });
  });

  it('gives a non-member the missing-channel answer for a message report, and reports users by id', async () => {
    await start();
    const [alice, bob, mallory] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    const team = await group(alice, [bob]);
    const body = (channelId: string) => ({ target: { kind: 'message', channelId, seq: 1 }, reason: 'spam' });
    const stranger = await api(ts.url, mallory, 'POST', '/v1/reports', body(team));
    const missing = await api(ts.url, mallory, 'POST', '/v1/reports', body('g_nothing'));
    expect(stranger.status).toBe(404);
    expect(stranger).toEqual(missing);
    const user = await api<{ report: { userId: string } }>(ts.url, alice, 'POST', '/v1/reports', {
      target: { kind: 'user', userId: mallory.id },
      reason: 'harassment',
    });
    expect(user.status).toBe(201);
    expect(user.body.report.userId).toBe(mallory.id);
    expect(events.filter((e) => e.type === 'user.reported')).toHaveLength(1);
  });

  it('rate-limits reports per user: past the burst, 429 with retryAfterMs and nothing stored', async () => {
    await start({ reportBurst: 2 });
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const report = () =>
      api<{ error?: { code: string; retryAfterMs?: number } }>(ts.url, alice, 'POST', '/v1/reports', {
        target: { kind: 'user', userId: bob.id },
        reason: 'spam',
      });
    expect((await report()).status).toBe(201);
    expect((await report()).status).toBe(201);
    const third = await report();
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    expect(third.body.error?.retryAfterMs).toBeGreaterThan(0);
    expect((await serverApi('GET', '/v1/server/reports')).body.reports).toHaveLength(2);
  });
});

describe('ban', () => {
  it('removes the banned member and refuses every re-add until an admin unbans; only admins ban', async () => {
    await start();
    const [alice, bob, carol] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    const team = await group(alice, [bob, carol]);
    expect((await api(ts.url, carol, 'PUT', `/v1/groups/${team}/bans/${bob.id}`)).status).toBe(403);
    const bobWs = await connect(bob);
    expect((await api(ts.url, alice, 'PUT', `/v1/groups/${team}/bans/${bob.id}`)).status).toBe(204);
    await bobWs.seen(
      (f) => f.t === 'msg' && 'message' in f.entry && f.entry.message.system?.action === 'member_removed',
    );
    const channel = await api<{ channel: { memberIds: string[] } }>(
      ts.url,
      alice,
      'GET',
      `/v1/channels/${team}`,
    );
    expect(channel.body.channel.memberIds).not.toContain(bob.id);
    expect((await api(ts.url, bob, 'GET', `/v1/channels/${team}`)).status).toBe(404);
    const readd = await api<{ error: { code: string } }>(
      ts.url,
      carol,
      'POST',
      `/v1/groups/${team}/members`,
      { userIds: [bob.id] },
    );
    expect(readd.status).toBe(403);
    expect(readd.body.error.code).toBe(ErrorCode.USER_BANNED);
    const bans = await api<{ bans: { userId: string; bannedBy: string }[] }>(
      ts.url,
      alice,
      'GET',
      `/v1/groups/${team}/bans`,
    );
    expect(bans.body.bans).toMatchObject([{ userId: bob.id, bannedBy: alice.id }]);
    expect((await api(ts.url, carol, 'GET', `/v1/groups/${team}/bans`)).status).toBe(403);
    expect((await api(ts.url, alice, 'DELETE', `/v1/groups/${team}/bans/${bob.id}`)).status).toBe(204);
    expect(
      (await api(ts.url, carol, 'POST', `/v1/groups/${team}/members`, { userIds: [bob.id] })).status,
    ).toBe(200);
  });

  it('never leaves a banned user in the group when a ban and an add race', async () => {
    await start();
    const [alice, dave, bob] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    for (let round = 0; round < 8; round++) {
      const team = await group(alice, [dave]);
      const [ban, add] = await Promise.all([
        api(ts.url, alice, 'PUT', `/v1/groups/${team}/bans/${bob.id}`),
        api(ts.url, dave, 'POST', `/v1/groups/${team}/members`, { userIds: [bob.id] }),
      ]);
      expect(ban.status).toBe(204);
      expect([200, 403]).toContain(add.status);
      const channel = await api<{ channel: { memberIds: string[] } }>(
        ts.url,
        alice,
        'GET',
        `/v1/channels/${team}`,
      );
      expect(channel.body.channel.memberIds).not.toContain(bob.id);
    }
  });

  it('answers a stranger’s ban as for a missing channel', async () => {
    await start();
    const [alice, bob, mallory] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
    const team = await group(alice, [bob]);
    const stranger = await api(ts.url, mallory, 'PUT', `/v1/groups/${team}/bans/${bob.id}`);
    const missing = await api(ts.url, mallory, 'PUT', `/v1/groups/g_nothing/bans/${bob.id}`);
    expect(stranger.status).toBe(404);
    expect(stranger).toEqual(missing);
  });
});

describe('slow mode', () => {
  it('holds members to one message per interval to the millisecond, exempts admins, and announces itself', async () => {
    clock = 1_800_000_000_000;
    await start();
    const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
    const team = await group(alice, [bob]);
    const bobWs = await connect(bob);
    expect((await api(ts.url, bob, 'PUT', `/v1/groups/${team}/slow-mode`, { seconds: 10 })).status).toBe(403);
    const set = await api<{ channel: { slowModeSeconds?: number } }>(
      ts.url,
      alice,
      'PUT',
      `/v1/groups/${team}/slow-mode`,
      { seconds: 10 },
    );
    expect(set.body.channel.slowModeSeconds).toBe(10);
    await bobWs.seen(
      (f) => f.t === 'msg' && 'message' in f.entry && f.entry.message.system?.action === 'slow_mode',
    );
    const listed = await api<{ channels: { id: string; slowModeSeconds?: number }[] }>(
      ts.url,
      bob,
      'GET',
      '/v1/channels',
    );
    expect(listed.body.channels.find((c) => c.id === team)?.slowModeSeconds).toBe(10);
    const send = (id: string) => bobWs.request({ t: 'send', channelId: team, clientMsgId: id, text: id });
    expect(await send('a')).toMatchObject({ t: 'ack' });
    clock += 9_999;
    expect(await send('b')).toMatchObject({ t: 'error', code: ErrorCode.SLOW_MODE, retryAfterMs: 1 });
    // A retry of a stored message is answered with the original, not held back.
    expect(await send('a')).toMatchObject({ t: 'ack', duplicate: true });
    clock += 1;
    expect(await send('b')).toMatchObject({ t: 'ack' });
    const aliceWs = await connect(alice);
    for (const id of ['x', 'y', 'z']) {
      expect(await aliceWs.request({ t: 'send', channelId: team, clientMsgId: id, text: id })).toMatchObject({
        t: 'ack',
      });
    }
    await api(ts.url, alice, 'PUT', `/v1/groups/${team}/slow-mode`, { seconds: 0 });
    expect(await send('c')).toMatchObject({ t: 'ack' });
    const after = await api<{ channel: { slowModeSeconds?: number } }>(
      ts.url,
      bob,
      'GET',
      `/v1/channels/${team}`,
    );
    expect(after.body.channel.slowModeSeconds).toBeUndefined();
  });
});
