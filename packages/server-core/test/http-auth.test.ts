import { DEFAULT_RESOURCE_LIMITS, ErrorCode, NatterError } from '@natter/protocol';
import { UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createHarness, PASSWORD } from './http-harness.js';

describe('HTTP auth: signup', () => {
  it('creates a lower-cased user and answers 201 with a session', async () => {
    const h = await createHarness();
    const res = await h.call('POST', '/v1/auth/signup', {
      body: { username: 'Ann.Lee', password: PASSWORD, displayName: ' Ann ', extra: 'ignored' },
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({
      id: expect.stringMatching(/^u_/),
      username: 'ann.lee',
      displayName: 'Ann',
      createdAt: h.clock.now,
    });
    expect(res.body).toMatchObject({
      deviceId: expect.stringMatching(/^dev_/),
      expiresAt: h.clock.now + 900_000,
    });
    expect(typeof res.body.accessToken).toBe('string');
    expect(typeof res.body.refreshToken).toBe('string');
    expect(JSON.stringify(res.body)).not.toContain('scrypt');
  });

  it('keeps a deviceId the client chose', async () => {
    const h = await createHarness();
    const res = await h.call('POST', '/v1/auth/signup', {
      body: { username: 'ann', password: PASSWORD, deviceId: 'phone-1' },
    });
    expect(res.body.deviceId).toBe('phone-1');
    await expect(h.tokens!.authenticate(res.body.accessToken)).resolves.toMatchObject({
      deviceId: 'phone-1',
    });
  });

  it('answers 409 NATTER_CONFLICT for a taken username, whatever its case', async () => {
    const h = await createHarness();
    await h.signup('ann');
    const res = await h.call('POST', '/v1/auth/signup', { body: { username: 'ANN', password: PASSWORD } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe(ErrorCode.CONFLICT);
  });

  it.each([
    [{ username: 'an', password: PASSWORD }, 'username'],
    [{ username: 'a'.repeat(33), password: PASSWORD }, 'username'],
    [{ username: 'ann lee', password: PASSWORD }, 'username'],
    [{ username: 'ann', password: 'short' }, 'password'],
    [{ username: 'ann', password: 'x'.repeat(257) }, 'password'],
    [{ username: 'ann', password: 12345678 }, 'password'],
    [{ username: 'ann', password: PASSWORD, displayName: '   ' }, 'displayName'],
    [{ username: 'ann', password: PASSWORD, deviceId: 'no spaces' }, 'deviceId'],
  ])('answers 400 NATTER_BAD_REQUEST for %j', async (body, field) => {
    const h = await createHarness();
    const res = await h.call('POST', '/v1/auth/signup', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(res.body.error.message).toContain(field);
  });

  it('answers 403 when signup is disabled', async () => {
    const h = await createHarness({ allowSignup: false });
    const res = await h.call('POST', '/v1/auth/signup', { body: { username: 'ann', password: PASSWORD } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe(ErrorCode.FORBIDDEN);
  });
});

describe('HTTP auth: login', () => {
  it('logs in with the right password', async () => {
    const h = await createHarness();
    const { userId } = await h.signup('ann');
    const res = await h.call('POST', '/v1/auth/login', {
      body: { username: 'Ann', password: PASSWORD, deviceId: 'web' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: { id: userId, username: 'ann' }, deviceId: 'web' });
    const me = await h.call('GET', '/v1/me', { token: res.body.accessToken });
    expect(me.body.user.id).toBe(userId);
  });

  it('answers a wrong password and an unknown user with the same 401 body', async () => {
    const h = await createHarness();
    await h.signup('ann');
    const wrong = await h.call('POST', '/v1/auth/login', {
      body: { username: 'ann', password: 'wrong password' },
    });
    const unknown = await h.call('POST', '/v1/auth/login', {
      body: { username: 'nobody', password: 'wrong password' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual({
      error: { code: ErrorCode.INVALID_CREDENTIALS, message: expect.any(String) },
    });
    expect(unknown.body).toEqual(wrong.body);
    expect([...unknown.headers]).toEqual([...wrong.headers]);
  });

  it('spends comparable time on unknown users and wrong passwords', async () => {
    const h = await createHarness();
    await h.signup('ann');
    const time = async (username: string) => {
      const started = performance.now();
      await h.call('POST', '/v1/auth/login', { body: { username, password: 'wrong password' } });
      return performance.now() - started;
    };
    await time('warmup');
    const unknown = await time('nobody');
    const wrong = await time('ann');
    // Both run one scrypt derivation; without the dummy hash the unknown user would answer in ~0 ms.
    expect(unknown).toBeGreaterThan(wrong / 4);
  });

  it('throttles a username after five failures with 429 and Retry-After, and resets on success', async () => {
    const h = await createHarness();
    await h.signup('ann');
    for (let i = 0; i < 5; i++) {
      const res = await h.call('POST', '/v1/auth/login', {
        body: { username: 'ann', password: 'wrong password' },
      });
      expect(res.status).toBe(401);
    }
    const blocked = await h.call('POST', '/v1/auth/login', { body: { username: 'ann', password: PASSWORD } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toEqual({
      code: ErrorCode.RATE_LIMITED,
      message: expect.any(String),
      retryAfterMs: 60_000,
    });
    expect(blocked.headers.get('retry-after')).toBe('60');

    h.clock.now += 60_001;
    expect(
      (await h.call('POST', '/v1/auth/login', { body: { username: 'ann', password: PASSWORD } })).status,
    ).toBe(200);
    for (let i = 0; i < 4; i++) {
      await h.call('POST', '/v1/auth/login', { body: { username: 'ann', password: 'wrong password' } });
    }
    expect(
      (await h.call('POST', '/v1/auth/login', { body: { username: 'ann', password: PASSWORD } })).status,
    ).toBe(200);
  });

  it('throttles a client address across usernames', async () => {
    const h = await createHarness();
    for (let i = 0; i < DEFAULT_RESOURCE_LIMITS.loginFailuresPerAddress.maxFailures; i++) {
      await h.call('POST', '/v1/auth/login', {
        body: { username: `user${i}`, password: 'guess-guess' },
        clientIp: '10.0.0.9',
      });
    }
    const blocked = await h.call('POST', '/v1/auth/login', {
      body: { username: 'fresh', password: 'guess-guess' },
      clientIp: '10.0.0.9',
    });
    expect(blocked.status).toBe(429);
    const elsewhere = await h.call('POST', '/v1/auth/login', {
      body: { username: 'fresh', password: 'guess-guess' },
      clientIp: '10.0.0.10',
    });
    expect(elsewhere.status).toBe(401);
  });
});

describe('HTTP auth: refresh and logout', () => {
  it('rotates the refresh token; a reused one is refused and ends its whole family', async () => {
    const h = await createHarness();
    const session = await h.signup('ann');
    const first = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: session.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ user: { id: session.userId }, deviceId: session.deviceId });
    expect(first.body.refreshToken).not.toBe(session.refreshToken);
    const reused = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: session.refreshToken } });
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe(ErrorCode.UNAUTHORIZED);
    // RFC 9700 §4.14.2: reuse means one of the two holders is an attacker; the family ends for both.
    const second = await h.call('POST', '/v1/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
    });
    expect(second.status).toBe(401);
  });

  it('rotates the refresh token again and again while nobody reuses one', async () => {
    const h = await createHarness();
    let refreshToken = (await h.signup('ann')).refreshToken;
    for (let i = 0; i < 3; i++) {
      const next = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken } });
      expect(next.status).toBe(200);
      refreshToken = next.body.refreshToken;
    }
  });

  it('logs out one device: its refresh token dies, other devices keep theirs, sockets are closed', async () => {
    const h = await createHarness();
    const phone = await h.signup('ann');
    const laptop = await h.call('POST', '/v1/auth/login', {
      body: { username: 'ann', password: PASSWORD, deviceId: 'laptop' },
    });
    const res = await h.call('POST', '/v1/auth/logout', { token: phone.token });
    expect(res.status).toBe(204);
    expect(h.logouts).toEqual([{ userId: phone.userId, deviceId: phone.deviceId }]);
    expect(
      (await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: phone.refreshToken } })).status,
    ).toBe(401);
    expect(
      (await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: laptop.body.refreshToken } })).status,
    ).toBe(200);
  });

  it('logs out all devices with allDevices', async () => {
    const h = await createHarness();
    const phone = await h.signup('ann');
    const laptop = await h.call('POST', '/v1/auth/login', { body: { username: 'ann', password: PASSWORD } });
    const res = await h.call('POST', '/v1/auth/logout', { token: phone.token, body: { allDevices: true } });
    expect(res.status).toBe(204);
    expect(h.logouts).toEqual([{ userId: phone.userId, deviceId: undefined }]);
    expect(
      (await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: laptop.body.refreshToken } })).status,
    ).toBe(401);
  });

  it('requires a token to log out', async () => {
    const h = await createHarness();
    const res = await h.call('POST', '/v1/auth/logout');
    expect(res.status).toBe(401);
    expect(h.logouts).toEqual([]);
  });
});

describe('HTTP auth: bearer tokens', () => {
  it('answers 401 NATTER_UNAUTHORIZED without a token or with a malformed header', async () => {
    const h = await createHarness();
    const variants: Array<Record<string, string>> = [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer x.y.z' },
    ];
    for (const headers of variants) {
      const res = await h.call('GET', '/v1/me', { headers });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe(ErrorCode.UNAUTHORIZED);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('answers 401 NATTER_TOKEN_EXPIRED for an expired token', async () => {
    const h = await createHarness();
    const { token } = await h.signup('ann');
    h.clock.now += 901_000;
    const res = await h.call('GET', '/v1/me', { token });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(ErrorCode.TOKEN_EXPIRED);
  });

  it('refuses an alg:none token for an existing user', async () => {
    const h = await createHarness();
    const { userId } = await h.signup('ann');
    const token = new UnsecuredJWT({ did: 'dev_x' })
      .setIssuer('natter')
      .setSubject(userId)
      .setIssuedAt(Math.floor(h.clock.now / 1000))
      .setExpirationTime(Math.floor(h.clock.now / 1000) + 600)
      .setJti('j')
      .encode();
    const res = await h.call('GET', '/v1/me', { token });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(ErrorCode.UNAUTHORIZED);
  });
});

describe('HTTP auth: an app-supplied authenticator', () => {
  const authenticator = {
    async authenticate(token: string) {
      if (token !== 'app-token') throw new NatterError(ErrorCode.UNAUTHORIZED, 'nope');
      return { userId: 'u_app' };
    },
  };

  it('answers 404 on every /v1/auth endpoint', async () => {
    const h = await createHarness({ authenticator });
    for (const path of ['/v1/auth/signup', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout']) {
      const res = await h.call('POST', path, {
        body: { username: 'ann', password: PASSWORD, refreshToken: 'x' },
      });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe(ErrorCode.NOT_FOUND);
    }
  });

  it('authenticates the other routes through it', async () => {
    const h = await createHarness({ authenticator });
    await h.addUser('u_app', 'appuser');
    expect((await h.call('GET', '/v1/me', { token: 'app-token' })).body.user.username).toBe('appuser');
    expect((await h.call('GET', '/v1/me', { token: 'other' })).status).toBe(401);
  });
});

describe('HTTP auth: signup rate', () => {
  it('answers 429 with Retry-After past the signups of one address', async () => {
    const h = await createHarness({
      authLimits: { ...DEFAULT_RESOURCE_LIMITS, signupsPerAddress: { perSecond: 1 / 3600, burst: 2 } },
    });
    const body = (n: number) => ({ username: `signer${n}`, password: PASSWORD });
    for (let i = 0; i < 2; i++) {
      const ok = await h.call('POST', '/v1/auth/signup', { body: body(i), clientIp: '10.1.1.1' });
      expect(ok.status).toBe(201);
    }
    const refused = await h.call('POST', '/v1/auth/signup', { body: body(9), clientIp: '10.1.1.1' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const other = await h.call('POST', '/v1/auth/signup', { body: body(9), clientIp: '10.1.1.2' });
    expect(other.status).toBe(201);
  });
});
