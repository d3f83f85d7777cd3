import { ErrorCode } from '@natter/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './http-harness.js';

describe('HTTP profile and users', () => {
  let h: Harness;
  let token: string;
  beforeEach(async () => {
    h = await createHarness();
    token = (await h.signup('ann')).token;
    await h.addUser('u_bob', 'bob');
    await h.addUser('u_bobby', 'bobby');
    await h.addUser('u_carl', 'carl');
  });

  it('returns and updates the caller profile', async () => {
    const me = await h.call('GET', '/v1/me', { token });
    expect(me.body.user).toMatchObject({ username: 'ann', displayName: 'ann' });
    expect(me.body.user).not.toHaveProperty('passwordHash');
    const patched = await h.call('PATCH', '/v1/me', { token, body: { displayName: '  Ann Lee ' } });
    expect(patched.status).toBe(200);
    expect(patched.body.user.displayName).toBe('Ann Lee');
    expect((await h.call('GET', '/v1/me', { token })).body.user.displayName).toBe('Ann Lee');
  });

  it('refuses an empty, too long or missing displayName with 400', async () => {
    for (const body of [{ displayName: '' }, { displayName: 'x'.repeat(101) }, {}, { displayName: 7 }]) {
      const res = await h.call('PATCH', '/v1/me', { token, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(ErrorCode.BAD_REQUEST);
    }
  });

  it('gets a user by id, 404 when unknown', async () => {
    expect((await h.call('GET', '/v1/users/u_bob', { token })).body.user).toMatchObject({
      id: 'u_bob',
      username: 'bob',
    });
    const missing = await h.call('GET', '/v1/users/u_nobody', { token });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: ErrorCode.NOT_FOUND, message: 'user not found' });
  });

  it('searches users by username prefix', async () => {
    const res = await h.call('GET', '/v1/users?prefix=BO&limit=20', { token });
    expect(res.body.users.map((u: { username: string }) => u.username)).toEqual(['bob', 'bobby']);
    const limited = await h.call('GET', '/v1/users?prefix=bo&limit=1', { token });
    expect(limited.body.users).toHaveLength(1);
    expect((await h.call('GET', '/v1/users', { token })).status).toBe(400);
    expect((await h.call('GET', '/v1/users?prefix=b&limit=abc', { token })).status).toBe(400);
    expect((await h.call('GET', '/v1/users?prefix=b&limit=0', { token })).status).toBe(400);
  });
});

describe('HTTP channels and history', () => {
  let h: Harness;
  let annToken: string;
  let groupId: string;

  beforeEach(async () => {
    h = await createHarness();
    await h.addUser('u_ann');
    await h.addUser('u_bob');
    annToken = await h.tokenFor('u_ann');
    groupId = (
      await h.call('POST', '/v1/groups', { token: annToken, body: { name: 'G', memberIds: ['u_bob'] } })
    ).body.channel.id;
    // seq 1 is the `created` system message; texts take seq 2..11.
    for (let i = 0; i < 10; i++) {
      await h.service.sendMessage('u_ann', { channelId: groupId, clientMsgId: `c${i}`, text: `m${i}` });
    }
  });

  const seqs = (body: { messages: Array<{ seq: number }> }) => body.messages.map((m) => m.seq);

  it('lists the caller channels with summaries', async () => {
    await h.call('POST', '/v1/channels/direct', { token: annToken, body: { userId: 'u_bob' } });
    const res = await h.call('GET', '/v1/channels', { token: annToken });
    expect(res.status).toBe(200);
    expect(res.body.channels).toHaveLength(2);
    const group = res.body.channels.find((c: { id: string }) => c.id === groupId);
    expect(group).toMatchObject({ lastSeq: 11, lastMessage: { text: 'm9' } });
  });

  it('opens the same direct channel from both sides', async () => {
    const a = await h.call('POST', '/v1/channels/direct', { token: annToken, body: { userId: 'u_bob' } });
    const b = await h.call('POST', '/v1/channels/direct', {
      token: await h.tokenFor('u_bob'),
      body: { userId: 'u_ann' },
    });
    expect(a.status).toBe(200);
    expect(a.body.channel.kind).toBe('direct');
    expect(b.body.channel.id).toBe(a.body.channel.id);
    expect(
      (await h.call('POST', '/v1/channels/direct', { token: annToken, body: { userId: 'u_ann' } })).status,
    ).toBe(400);
    expect(
      (await h.call('POST', '/v1/channels/direct', { token: annToken, body: { userId: 'u_nope' } })).status,
    ).toBe(404);
  });

  it('gets one channel', async () => {
    const res = await h.call('GET', `/v1/channels/${groupId}`, { token: annToken });
    expect(res.body.channel).toMatchObject({ id: groupId, memberIds: ['u_ann', 'u_bob'] });
  });

  it('pages history with before, after and around', async () => {
    const base = `/v1/channels/${groupId}/messages`;
    const latest = await h.call('GET', `${base}?limit=3`, { token: annToken });
    expect(latest.body).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
    expect(seqs(latest.body)).toEqual([9, 10, 11]);
    const before = await h.call('GET', `${base}?before=5&limit=2`, { token: annToken });
    expect(seqs(before.body)).toEqual([3, 4]);
    expect(before.body).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true });
    const after = await h.call('GET', `${base}?after=8&limit=10`, { token: annToken });
    expect(seqs(after.body)).toEqual([9, 10, 11]);
    expect(after.body.hasMoreAfter).toBe(false);
    const around = await h.call('GET', `${base}?around=6&limit=3`, { token: annToken });
    expect(seqs(around.body)).toEqual([5, 6, 7]);
  });

  it('refuses two anchors, non-integers and out-of-range values with 400', async () => {
    const base = `/v1/channels/${groupId}/messages`;
    for (const query of [
      'before=5&after=2',
      'around=3&before=9',
      'before=1.5',
      'after=-1',
      'limit=0',
      'limit=201',
      'before=x',
    ]) {
      const res = await h.call('GET', `${base}?${query}`, { token: annToken });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe(ErrorCode.BAD_REQUEST);
    }
  });

  it('shows a new member history only from when they joined', async () => {
    await h.addUser('u_cat');
    await h.call('POST', `/v1/groups/${groupId}/members`, { token: annToken, body: { userIds: ['u_cat'] } });
    const res = await h.call('GET', `/v1/channels/${groupId}/messages`, { token: await h.tokenFor('u_cat') });
    expect(seqs(res.body)).toEqual([12]);
  });
});

describe('HTTP errors', () => {
  let h: Harness;
  let token: string;
  beforeEach(async () => {
    h = await createHarness({ maxBodyBytes: 1024 });
    await h.addUser('u_ann');
    token = await h.tokenFor('u_ann');
  });

  it('answers malformed JSON with 400 NATTER_BAD_REQUEST', async () => {
    const res = await h.call('PATCH', '/v1/me', { token, rawBody: '{"displayName": ' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: ErrorCode.BAD_REQUEST, message: 'request body is not valid JSON' },
    });
  });

  it('answers a JSON body that is not an object with 400', async () => {
    for (const rawBody of ['[]', '"x"', 'null', '42']) {
      expect((await h.call('POST', '/v1/groups', { token, rawBody })).status).toBe(400);
    }
  });

  it('answers an oversized body with 413 even without the node adapter', async () => {
    const res = await h.call('PATCH', '/v1/me', { token, body: { displayName: 'x'.repeat(2000) } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe(ErrorCode.BAD_REQUEST);
  });

  it('answers an unknown route with 404 and a wrong method with 405 and Allow', async () => {
    const unknown = await h.call('GET', '/v1/nothing', { token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe(ErrorCode.NOT_FOUND);
    const wrong = await h.call('DELETE', '/v1/me', { token });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, PATCH');
    expect(wrong.body.error.code).toBe(ErrorCode.BAD_REQUEST);
  });

  it('answers unexpected faults with a generic 500 and counts every error by code', async () => {
    h.service.listChannels = async () => {
      throw new Error('disk on fire at /var/secret');
    };
    const res = await h.call('GET', '/v1/channels', { token });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: ErrorCode.INTERNAL, message: 'internal server error' } });
    await h.call('GET', '/v1/nothing', { token });
    const counted = await h.metrics.errors.get();
    const byCode = Object.fromEntries(counted.values.map((v) => [v.labels.code, v.value]));
    expect(byCode).toMatchObject({ [ErrorCode.INTERNAL]: 1, [ErrorCode.NOT_FOUND]: 1 });
  });

  it('answers 503 with Retry-After when storage is unavailable', async () => {
    await h.storage.close();
    const res = await h.call('GET', '/v1/channels', { token });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe(ErrorCode.UNAVAILABLE);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('marks every response uncacheable', async () => {
    const res = await h.call('GET', '/v1/me', { token });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('HTTP discovery', () => {
  it('answers without a token', async () => {
    const h = await createHarness();
    const res = await h.call('GET', '/v1/discovery');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ wsUrl: 'ws://chat.example/v1/ws', region: 'eu-1' });
  });
});

describe('HTTP CORS', () => {
  it('reflects an allowed origin with Vary: Origin', async () => {
    const h = await createHarness({ allowedOrigins: ['https://app.example'] });
    const res = await h.call('GET', '/v1/discovery', { headers: { origin: 'https://app.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('answers a preflight with 204, the path methods and the allowed headers', async () => {
    const h = await createHarness({ allowedOrigins: ['https://app.example'] });
    const res = await h.call('OPTIONS', '/v1/me', {
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PATCH' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, PATCH, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('refuses a foreign origin with 403 NATTER_FORBIDDEN and no CORS headers', async () => {
    const h = await createHarness({ allowedOrigins: ['https://app.example'] });
    for (const method of ['GET', 'OPTIONS']) {
      const res = await h.call(method, '/v1/discovery', { headers: { origin: 'https://evil.example' } });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe(ErrorCode.FORBIDDEN);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('allows same-origin pages and clients without an Origin', async () => {
    const h = await createHarness();
    expect((await h.call('GET', '/v1/discovery', { headers: { origin: 'http://api.test' } })).status).toBe(
      200,
    );
    const plain = await h.call('GET', '/v1/discovery');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets browsers read Retry-After on a cross-origin 429', async () => {
    const h = await createHarness({ allowedOrigins: '*' });
    const headers = { origin: 'https://any.example' };
    for (let i = 0; i < 6; i++) {
      await h.call('POST', '/v1/auth/login', {
        headers,
        body: { username: 'ghost', password: 'guess-guess' },
      });
    }
    const res = await h.call('POST', '/v1/auth/login', {
      headers,
      body: { username: 'ghost', password: 'guess-guess' },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });
});
