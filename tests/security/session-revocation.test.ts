import { CloseCode, ErrorCode } from '@natter/protocol';
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

const PASSWORD = 'correct horse battery';

/** The HTTP status of a WebSocket upgrade with `token`. */
function upgrade(token: string): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL('/v1/ws', ts.url.replace(/^http/, 'ws'));
    url.searchParams.set('access_token', token);
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

interface SessionBody {
  accessToken: string;
  refreshToken: string;
  deviceId: string;
}

async function login(user: TestUser, deviceId: string, password = PASSWORD) {
  return api<SessionBody>(ts.url, undefined, 'POST', '/v1/auth/login', {
    username: user.username,
    password,
    deviceId,
  });
}

describe('sessions that end', () => {
  it('refuses a logged-out access token at the handshake and on the API at once', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    expect(await upgrade(alice.accessToken)).toBe(101);
    expect((await api(ts.url, alice, 'POST', '/v1/auth/logout', {})).status).toBe(204);
    expect(await upgrade(alice.accessToken)).toBe(401);
    const me = await api<{ error: { code: string } }>(ts.url, alice, 'GET', '/v1/me');
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe(ErrorCode.UNAUTHORIZED);
  });

  it('ends only the logged-out session: another device of the user keeps working', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const other = await login(alice, 'dev_other');
    expect((await api(ts.url, alice, 'POST', '/v1/auth/logout', {})).status).toBe(204);
    expect(await upgrade(other.body.accessToken)).toBe(101);
    expect(await upgrade(alice.accessToken)).toBe(401);
  });

  it('revokes the whole refresh family when a used refresh token comes back', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const first = await api<SessionBody>(ts.url, undefined, 'POST', '/v1/auth/refresh', {
      refreshToken: alice.refreshToken,
    });
    expect(first.status).toBe(200);
    // The stolen original is replayed: refused, and the family it belongs to ends.
    const replay = await api(ts.url, undefined, 'POST', '/v1/auth/refresh', {
      refreshToken: alice.refreshToken,
    });
    expect(replay.status).toBe(401);
    expect(await upgrade(first.body.accessToken)).toBe(401);
    expect(await upgrade(alice.accessToken)).toBe(401);
    const next = await api(ts.url, undefined, 'POST', '/v1/auth/refresh', {
      refreshToken: first.body.refreshToken,
    });
    expect(next.status).toBe(401);
    // A fresh login is a new family and works.
    const fresh = await login(alice, 'dev_new');
    expect(await upgrade(fresh.body.accessToken)).toBe(101);
  });

  it('a made-up refresh token naming a session cannot revoke it', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const sessionId = alice.refreshToken.split('.')[0];
    const forged = `${sessionId}.${'A'.repeat(43)}.${'B'.repeat(32)}`;
    expect((await api(ts.url, undefined, 'POST', '/v1/auth/refresh', { refreshToken: forged })).status).toBe(
      401,
    );
    expect(await upgrade(alice.accessToken)).toBe(101);
  });

  it('a password change revokes every session, closes other devices, and issues the caller a new one', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const other = await login(alice, 'dev_other');
    const socket = await RawClient.connect(ts.url, other.body.accessToken);
    clients.push(socket);
    const changed = await api<SessionBody>(ts.url, alice, 'POST', '/v1/auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'a much better passphrase 42',
    });
    expect(changed.status).toBe(200);
    expect((await socket.closed).code).toBe(CloseCode.SESSION_REVOKED);
    expect(await upgrade(other.body.accessToken)).toBe(401);
    expect(await upgrade(alice.accessToken)).toBe(401);
    expect(await upgrade(changed.body.accessToken)).toBe(101);
    const refreshOld = await api(ts.url, undefined, 'POST', '/v1/auth/refresh', {
      refreshToken: other.body.refreshToken,
    });
    expect(refreshOld.status).toBe(401);
    expect((await login(alice, 'dev_x')).status).toBe(401);
    expect((await login(alice, 'dev_x', 'a much better passphrase 42')).status).toBe(200);
  });

  it('refuses a password change with a wrong current password or a common new one', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const wrong = await api<{ error: { code: string } }>(ts.url, alice, 'POST', '/v1/auth/password', {
      currentPassword: 'not the password',
      newPassword: 'a much better passphrase 42',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe(ErrorCode.INVALID_CREDENTIALS);
    const weak = await api<{ error: { code: string } }>(ts.url, alice, 'POST', '/v1/auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'password1',
    });
    expect(weak.status).toBe(400);
    expect(weak.body.error.code).toBe(ErrorCode.WEAK_PASSWORD);
    expect(await upgrade(alice.accessToken)).toBe(101);
  });

  it('refuses common passwords at signup', async () => {
    ts = await startServer();
    for (const password of ['password', 'password1', 'qwertyuiop', 'iloveyou123']) {
      const res = await api<{ error: { code: string } }>(ts.url, undefined, 'POST', '/v1/auth/signup', {
        username: `weakling${password.length}${password[0]}`,
        password,
      });
      expect(res.status, password).toBe(400);
      expect(res.body.error.code).toBe(ErrorCode.WEAK_PASSWORD);
    }
  });

  it('refuses a correctly signed token whose user does not exist', async () => {
    ts = await startServer();
    const now = Math.floor(Date.now() / 1000);
    const ghost = await new SignJWT({ did: 'dev_1', sid: 'AAAAAAAAAAAAAAAAAAAAAA' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('natter')
      .setSubject('u_ghost')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .setJti('j1')
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect(await upgrade(ghost)).toBe(401);
  });
});
