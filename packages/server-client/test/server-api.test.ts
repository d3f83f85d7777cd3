import { ErrorCode, type NatterEvent, SUBPROTOCOL_JSON } from '@natter/protocol';
import { createNatterServer, type EventSink, type NatterServer, silentLogger } from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { NatterServerClient } from '../src/index.js';

const ADMIN_KEY = 'admin-key-admin-key-admin-key-admin-key';
const READONLY_KEY = 'events-only-key-events-only-key-events';
const SECRET = 'server-api-test-secret-server-api-test-secret';

/** An event sink that keeps events in memory, with the replay a real sink offers. */
function recordingSink(): EventSink & { events: NatterEvent[] } {
  const events: NatterEvent[] = [];
  return {
    events,
    publish: (batch) => void events.push(...batch),
    list: async (after, limit) => {
      const from = after === undefined ? 0 : events.findIndex((e) => e.id === after) + 1;
      const page = events.slice(from, from + limit);
      return { events: page, hasMore: from + limit < events.length };
    },
    start: async () => {},
    stop: async () => {},
  };
}

let natter: NatterServer | undefined;
afterEach(async () => {
  await natter?.close();
  natter = undefined;
});

async function start(withKeys = true) {
  const sink = recordingSink();
  natter = createNatterServer({
    storage: createMemoryStorage(),
    tokens: { secret: SECRET },
    logger: silentLogger(),
    events: () => sink,
    ...(withKeys
      ? {
          serverApi: {
            keys: [
              { name: 'backend', key: ADMIN_KEY, scopes: '*' },
              { name: 'auditor', key: READONLY_KEY, scopes: ['events:read'] },
            ],
          },
        }
      : {}),
  });
  const { url } = await natter.listen(0);
  return { url, sink, client: new NatterServerClient({ baseUrl: url, apiKey: ADMIN_KEY }) };
}

async function me(url: string, token: string): Promise<number> {
  return (await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status;
}

describe('server API through @natter/server-client', () => {
  it('a backend creates users and a group, adds and removes members, and posts as a user, as the app and as a notice', async () => {
    const { client } = await start();
    await client.createUser({ id: 'u-ann', username: 'ann', displayName: 'Ann' });
    await client.createUser({ id: 'u-bob', username: 'bob' });
    await client.createUser({ id: 'u-cy', username: 'cyd' });
    const group = await client.createChannel({
      kind: 'group',
      name: 'Team',
      ownerId: 'u-ann',
      memberIds: ['u-bob'],
    });
    expect(group.memberIds.sort()).toEqual(['u-ann', 'u-bob']);
    const grown = await client.addMembers(group.id, ['u-cy']);
    expect(grown.memberIds).toContain('u-cy');

    const fromBob = await client.postMessage(group.id, { userId: 'u-bob', text: 'hello from bob' });
    expect(fromBob).toMatchObject({ senderId: 'u-bob', kind: 'text', text: 'hello from bob' });
    const fromApp = await client.postMessage(group.id, { text: 'the app speaks', clientMsgId: 'deploy-1' });
    expect(fromApp).toMatchObject({ senderId: 'app', kind: 'text' });
    const retried = await client.postMessage(group.id, { text: 'the app speaks', clientMsgId: 'deploy-1' });
    expect(retried.id).toBe(fromApp.id);
    const notice = await client.postMessage(group.id, { text: 'Ann started a call', system: true });
    expect(notice).toMatchObject({
      kind: 'system',
      text: 'Ann started a call',
      system: { action: 'notice', actorId: 'app' },
    });

    await client.removeMember(group.id, 'u-ann');
    const direct = await client.createChannel({ kind: 'direct', userIds: ['u-bob', 'u-cy'] });
    expect(direct.kind).toBe('direct');
    await expect(client.postMessage(group.id, { userId: 'u-ann', text: 'gone' })).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
  });

  it('issues tokens a client logs in with, and deactivation refuses them and closes the socket until reactivated', async () => {
    const { url, client } = await start();
    await client.createUser({ id: 'u-dee', username: 'dee' });
    const session = await client.issueTokens('u-dee', 'phone');
    expect(session.deviceId).toBe('phone');
    expect(await me(url, session.accessToken)).toBe(200);

    const ws = new WebSocket(
      `${url.replace('http', 'ws')}/v1/ws?access_token=${session.accessToken}`,
      SUBPROTOCOL_JSON,
    );
    await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

    const deactivated = await client.deactivateUser('u-dee');
    expect(deactivated.deactivatedAt).toBeTypeOf('number');
    expect(await closed).toBe(4003);
    expect(await me(url, session.accessToken)).toBe(401);
    const refresh = await fetch(`${url}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    });
    expect(refresh.status).toBe(401);
    await expect(client.issueTokens('u-dee')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });

    const back = await client.reactivateUser('u-dee');
    expect(back.deactivatedAt).toBeUndefined();
    expect(await me(url, (await client.issueTokens('u-dee')).accessToken)).toBe(200);
  });

  it('a key lacking the scope gets 403 NATTER_INSUFFICIENT_SCOPE, a wrong key 401, and the API is 404 without keys', async () => {
    const { url } = await start();
    const auditor = new NatterServerClient({ baseUrl: url, apiKey: READONLY_KEY });
    await expect(auditor.createUser({ id: 'u-x', username: 'xxx' })).rejects.toMatchObject({
      code: ErrorCode.INSUFFICIENT_SCOPE,
    });
    const raw = await fetch(`${url}/v1/server/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${READONLY_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'u-x', username: 'xxx' }),
    });
    expect(raw.status).toBe(403);
    await expect(auditor.events()).resolves.toMatchObject({ events: [] });
    const stranger = new NatterServerClient({
      baseUrl: url,
      apiKey: 'not-a-key-not-a-key-not-a-key-not-a-key',
    });
    await expect(stranger.events()).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    // A user's token is not an API key.
    const signup = await fetch(`${url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'sneaky', password: 'long enough' }),
    });
    const { accessToken } = (await signup.json()) as { accessToken: string };
    await expect(
      new NatterServerClient({ baseUrl: url, apiKey: accessToken }).events(),
    ).rejects.toMatchObject({
      code: ErrorCode.UNAUTHORIZED,
    });
    await natter?.close();

    const { client: without } = await start(false);
    await expect(without.createUser({ id: 'u-y', username: 'yyy' })).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
  });

  it('emits channel, member and message events once per commit, with ids a receiver dedupes and replays by', async () => {
    const { client, sink } = await start();
    await client.createUser({ id: 'u-eve', username: 'eve' });
    await client.createUser({ id: 'u-fay', username: 'fay' });
    const group = await client.createChannel({
      kind: 'group',
      name: 'Events',
      ownerId: 'u-eve',
      memberIds: [],
    });
    await client.addMembers(group.id, ['u-fay']);
    await client.postMessage(group.id, { userId: 'u-fay', text: 'hi' });
    await client.removeMember(group.id, 'u-fay');
    expect(sink.events.map((e) => e.type)).toEqual([
      'channel.created',
      'member.added',
      'message.created',
      'member.removed',
    ]);
    const [created, added, message, removed] = sink.events;
    expect(created).toMatchObject({
      data: { channel: { id: group.id, kind: 'group', name: 'Events', memberIds: ['u-eve'] } },
    });
    expect(added).toMatchObject({ data: { channelId: group.id, actorId: 'app', userIds: ['u-fay'] } });
    expect(message).toMatchObject({ data: { message: { text: 'hi', senderId: 'u-fay' } } });
    expect(removed).toMatchObject({ data: { channelId: group.id, userId: 'u-fay', left: false } });
    expect(new Set(sink.events.map((e) => e.id)).size).toBe(4);
    expect([...sink.events.map((e) => e.id)].sort()).toEqual(sink.events.map((e) => e.id));
    const page = await client.events(sink.events[1]!.id, 2);
    expect(page.events.map((e) => e.type)).toEqual(['message.created', 'member.removed']);
    expect(page.hasMore).toBe(false);
  });
  it('lists users’ reports with their snapshot and user.reported event, and resolves them once', async () => {
    const { url, client, sink } = await start();
    await client.createUser({ id: 'u-ann', username: 'ann' });
    await client.createUser({ id: 'u-bob', username: 'bob' });
    const group = await client.createChannel({
      kind: 'group',
      name: 'Team',
      ownerId: 'u-ann',
      memberIds: ['u-bob'],
    });
    const spam = await client.postMessage(group.id, { text: 'cheap pills', userId: 'u-bob' });
    const { accessToken } = await client.issueTokens('u-ann');
    const res = await fetch(`${url}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        target: { kind: 'message', channelId: group.id, seq: spam.seq },
        reason: 'spam',
      }),
    });
    expect(res.status).toBe(201);
    const { reports, hasMore } = await client.reports({ status: 'open' });
    expect(hasMore).toBe(false);
    expect(reports).toMatchObject([
      { reporterId: 'u-ann', userId: 'u-bob', message: { text: 'cheap pills' } },
    ]);
    expect(sink.events.find((e) => e.type === 'user.reported')?.data).toMatchObject({
      reportId: reports[0]!.id,
    });
    const resolved = await client.resolveReport(reports[0]!.id, { outcome: 'dismissed', note: 'a joke' });
    expect(resolved).toMatchObject({
      status: 'resolved',
      resolution: { outcome: 'dismissed', note: 'a joke' },
    });
    await expect(client.resolveReport(reports[0]!.id, { outcome: 'actioned' })).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });
    expect((await client.reports({ status: 'open' })).reports).toEqual([]);
  });
});
