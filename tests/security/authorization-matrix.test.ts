import { newId } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

/**
 * Every endpoint and frame that names a channel, asked by a stranger, a non-member and a removed member:
 * each must get exactly the answer a channel that does not exist gets, and no data.
 */
let ts: TestServer;
let owner: TestUser;
let member: TestUser;
let removed: TestUser;
let stranger: TestUser;
let groupId: string;
let directId: string;
const clients: RawClient[] = [];

beforeAll(async () => {
  // The guessing test asks 10,000 times from one socket: the rate and in-flight bounds (tested in
  // resource-limits.test.ts) would answer RATE_LIMITED instead of the NOT_FOUND this file compares.
  const fast = {
    socket: { perSecond: 100_000, burst: 100_000 },
    user: { perSecond: 100_000, burst: 100_000 },
  };
  ts = await startServer({
    resourceLimits: {
      signupsPerAddress: { perSecond: 1_000, burst: 1_000 },
      maxInFlightPerConnection: 1_000,
      maxInFlightPerUser: 1_000,
      frameRates: { history: fast, sync: fast, read: fast, 'presence.get': fast },
    },
  });
  [owner, member, removed, stranger] = await Promise.all([
    signup(ts.url),
    signup(ts.url),
    signup(ts.url),
    signup(ts.url),
  ]);
  const group = await api<{ channel: { id: string } }>(ts.url, owner, 'POST', '/v1/groups', {
    name: 'secret plans',
    memberIds: [member.id, removed.id],
  });
  groupId = group.body.channel.id;
  const dm = await api<{ channel: { id: string } }>(ts.url, owner, 'POST', '/v1/channels/direct', {
    userId: member.id,
  });
  directId = dm.body.channel.id;
  const c = await RawClient.connect(ts.url, owner.accessToken);
  clients.push(c);
  await c.request({
    t: 'send',
    channelId: groupId,
    clientMsgId: 'secret-1',
    text: 'the secret is 42 @' + member.id,
    mentions: [member.id, removed.id],
  });
  await c.request({ t: 'send', channelId: directId, clientMsgId: 'secret-2', text: 'private words' });
  expect((await api(ts.url, owner, 'DELETE', `/v1/groups/${groupId}/members/${removed.id}`)).status).toBe(
    204,
  );
});

afterAll(async () => {
  for (const c of clients) c.close();
  await ts.stop();
});

const MISSING = 'g_01JZZZZZZZZZZZZZZZZZZZZZZZ';

/** `status` is what both a real and a missing channel answer; filters over lists answer an empty 200. */
type HttpCase = {
  name: string;
  method: string;
  path: (id: string) => string;
  body?: unknown;
  status?: number;
};
const httpCases: HttpCase[] = [
  { name: 'GET channel', method: 'GET', path: (id) => `/v1/channels/${id}` },
  { name: 'GET messages', method: 'GET', path: (id) => `/v1/channels/${id}/messages` },
  { name: 'GET messages around', method: 'GET', path: (id) => `/v1/channels/${id}/messages?around=2` },
  { name: 'GET receipts', method: 'GET', path: (id) => `/v1/channels/${id}/receipts` },
  { name: 'POST read', method: 'POST', path: (id) => `/v1/channels/${id}/read`, body: { seq: 3 } },
  { name: 'PATCH rename', method: 'PATCH', path: (id) => `/v1/groups/${id}`, body: { name: 'mine now' } },
  {
    name: 'POST add members',
    method: 'POST',
    path: (id) => `/v1/groups/${id}/members`,
    body: { userIds: ['MEMBER'] },
  },
  { name: 'DELETE member', method: 'DELETE', path: (id) => `/v1/groups/${id}/members/u_nobody` },
  { name: 'POST leave', method: 'POST', path: (id) => `/v1/groups/${id}/leave` },
  { name: 'GET presence of channel', method: 'GET', path: (id) => `/v1/presence?channelId=${id}` },
  { name: 'PUT ban', method: 'PUT', path: (id) => `/v1/groups/${id}/bans/MEMBER` },
  { name: 'DELETE ban', method: 'DELETE', path: (id) => `/v1/groups/${id}/bans/MEMBER` },
  { name: 'GET bans', method: 'GET', path: (id) => `/v1/groups/${id}/bans` },
  { name: 'PUT slow mode', method: 'PUT', path: (id) => `/v1/groups/${id}/slow-mode`, body: { seconds: 5 } },
  {
    name: 'POST report of a message',
    method: 'POST',
    path: () => '/v1/reports',
    body: { target: { kind: 'message', channelId: 'CHANNEL', seq: 1 }, reason: 'spam' },
  },
  {
    name: 'GET mentions in channel',
    method: 'GET',
    path: (id) => `/v1/mentions?channelId=${id}`,
    status: 200,
  },
];

describe('authorization matrix (HTTP)', () => {
  for (const who of ['stranger', 'removed'] as const) {
    for (const c of httpCases) {
      it(`${who}: ${c.name} answers exactly like a missing channel`, async () => {
        const user = who === 'stranger' ? stranger : removed;
        for (const target of [groupId, directId]) {
          const bodyFor = (channelId: string) =>
            JSON.parse(
              JSON.stringify(c.body ?? null)
                .replace('MEMBER', member.id)
                .replace('CHANNEL', channelId),
            ) ?? undefined;
          const path = (id: string) => c.path(id).replace('MEMBER', member.id);
          const real = await api(ts.url, user, c.method, path(target), bodyFor(target));
          const missing = await api(ts.url, user, c.method, path(MISSING), bodyFor(MISSING));
          expect(real.status).toBe(c.status ?? 404);
          expect(real).toEqual(missing);
          expect(JSON.stringify(real.body)).not.toMatch(/secret|private/);
        }
      });
    }
  }

  it('a removed member sees nothing of the group in their channel list, mentions or search', async () => {
    const list = await api<{ channels: Array<{ id: string }> }>(ts.url, removed, 'GET', '/v1/channels');
    expect(list.body.channels.map((c) => c.id)).not.toContain(groupId);
    const mentions = await api<{ messages: unknown[] }>(ts.url, removed, 'GET', '/v1/mentions');
    expect(mentions.body.messages).toEqual([]);
    const search = await api<{ messages?: unknown[] }>(ts.url, stranger, 'GET', '/v1/search?q=secret');
    expect(JSON.stringify(search.body)).not.toMatch(/the secret is/);
  });
});

describe('authorization matrix (WebSocket frames)', () => {
  for (const who of ['stranger', 'removed'] as const) {
    it(`${who}: every channel frame answers exactly like a missing channel`, async () => {
      const user = who === 'stranger' ? stranger : removed;
      const c = await RawClient.connect(ts.url, user.accessToken);
      clients.push(c);
      const frames = [
        (id: string) => ({ t: 'send' as const, channelId: id, clientMsgId: newId(), text: 'let me in' }),
        (id: string) => ({ t: 'history' as const, channelId: id }),
        (id: string) => ({ t: 'history' as const, channelId: id, around: 2 }),
        (id: string) => ({ t: 'read' as const, channelId: id, seq: 2 }),
        (id: string) => ({ t: 'received' as const, channelId: id, seq: 2 }),
        (id: string) => ({ t: 'typing' as const, channelId: id }),
        (id: string) => ({ t: 'presence.get' as const, channelId: id }),
      ];
      for (const make of frames) {
        for (const target of [groupId, directId]) {
          const real = await c.request(make(target));
          const missing = await c.request(make(MISSING));
          expect(real).toMatchObject({ t: 'error', code: 'NATTER_NOT_FOUND' });
          expect({ ...real, rid: 0 }).toEqual({ ...missing, rid: 0 });
        }
      }
    });
  }

  it('10,000 guessed channel ids return nothing foreign', async () => {
    const c = await RawClient.connect(ts.url, stranger.accessToken);
    clients.push(c);
    const real = [groupId, directId];
    const guesses: string[] = [];
    for (const id of real) {
      // Neighbours of the real ids (last characters changed) and fresh ids of the same shape.
      const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
      for (let i = 0; i < 2_000; i++) {
        const pos = id.length - 1 - (i % 4);
        guesses.push(id.slice(0, pos) + alphabet[i % 32] + id.slice(pos + 1));
      }
    }
    while (guesses.length < 10_000) guesses.push(`${Math.random() < 0.5 ? 'g' : 'd'}_${newId()}`);
    let found = 0;
    for (let i = 0; i < guesses.length; i += 200) {
      const answers = await Promise.all(
        guesses.slice(i, i + 200).map((channelId) => c.request({ t: 'history', channelId, limit: 1 })),
      );
      found += answers.filter((a) => a.t !== 'error' || a.code !== 'NATTER_NOT_FOUND').length;
    }
    expect(found).toBe(0);
    // The stranger's own sync log holds nothing from channels they never joined.
    const page = await c.request({ t: 'sync', after: 0 });
    expect(page.t === 'sync.page' ? page.entries : ['?']).toEqual([]);
  }, 120_000);
});
