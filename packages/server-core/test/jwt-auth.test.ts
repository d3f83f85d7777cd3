import { ErrorCode, SUBPROTOCOL_JSON } from '@natter/protocol';
import { createMemoryStorage } from '@natter/storage-memory';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type Authenticator,
  createJwtAuthenticator,
  createNatterServer,
  type JwtAuthenticatorOptions,
  type NatterServer,
  silentLogger,
  userIdFromSubject,
} from '../src/index.js';
import {
  type IdentityProvider,
  identityProvider,
  type JwksServer,
  startJwksServer,
} from './helpers/jwks-server.js';

interface Running {
  natter: NatterServer;
  url: string;
}

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close();
});

async function serve(authenticator: Authenticator): Promise<Running> {
  const natter = createNatterServer({
    storage: createMemoryStorage(),
    authenticator,
    logger: silentLogger(),
  });
  const { url } = await natter.listen(0);
  running.push(natter);
  return { natter, url };
}

/** What the tests read of an answer: a user, or an error. */
interface CallBody {
  user: { id: string; username: string; displayName: string };
  error: { code: string; retryAfterMs?: number };
}

async function call(url: string, path: string, token: string) {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as CallBody };
}

function openSocket(url: string, token: string): Promise<{ hello: Record<string, unknown>; close(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws?access_token=${token}`, SUBPROTOCOL_JSON);
    ws.once('message', (data) => resolve({ hello: JSON.parse(String(data)), close: () => ws.close() }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function jwksSetup(overrides: Partial<JwtAuthenticatorOptions> = {}): Promise<{
  idp: IdentityProvider;
  jwks: JwksServer;
  server: Running;
}> {
  const idp = await identityProvider();
  const jwks = await startJwksServer([idp.publicJwk]);
  running.push(jwks);
  const server = await serve(
    createJwtAuthenticator({ jwksUrl: jwks.url, issuer: idp.issuer, audience: idp.audience, ...overrides }),
  );
  return { idp, jwks, server };
}

describe('bring your own auth: JWTs verified against the app’s JWKS', () => {
  it('an app token from its own issuer logs a user in with no natter signup, over HTTP and WebSocket', async () => {
    const { idp, server } = await jwksSetup();
    const token = await idp.sign({
      sub: 'user-42',
      preferred_username: 'Ada.Lovelace',
      name: 'Ada Lovelace',
    });
    const me = await call(server.url, '/v1/me', token);
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({
      id: 'user-42',
      username: 'ada.lovelace',
      displayName: 'Ada Lovelace',
    });
    const socket = await openSocket(server.url, token);
    expect(socket.hello.t).toBe('hello');
    socket.close();
  });

  it('updates the display name from the claims on a later token, keeping the user', async () => {
    const { idp, server } = await jwksSetup();
    await call(server.url, '/v1/me', await idp.sign({ sub: 'user-7', name: 'Old Name' }));
    const me = await call(server.url, '/v1/me', await idp.sign({ sub: 'user-7', name: 'New Name' }));
    expect(me.body.user).toMatchObject({ id: 'user-7', displayName: 'New Name' });
  });

  it('maps a subject that is not a natter id to a stable hashed id, and a taken username to a unique one', async () => {
    const { idp, server } = await jwksSetup();
    const first = await call(
      server.url,
      '/v1/me',
      await idp.sign({ sub: 'auth0|abc', preferred_username: 'sam' }),
    );
    const second = await call(
      server.url,
      '/v1/me',
      await idp.sign({ sub: 'google|xyz', preferred_username: 'sam' }),
    );
    expect(first.body.user.id).toBe(userIdFromSubject('auth0|abc'));
    expect(first.body.user.id).toMatch(/^h\.[A-Za-z0-9_-]{43}$/);
    expect(first.body.user.username).toBe('sam');
    expect(second.body.user.username).toMatch(/^sam-[0-9a-f]{8}$/);
    const again = await call(server.url, '/v1/me', await idp.sign({ sub: 'auth0|abc' }));
    expect(again.body.user.id).toBe(first.body.user.id);
  });

  it('refuses tokens of another issuer, for another audience, expired, or signed with another key', async () => {
    const { idp, server } = await jwksSetup();
    const stranger = await identityProvider(idp.issuer);
    const cases = [
      await idp.sign({ sub: 'u1', iss: 'https://evil.example/' }),
      await idp.sign({ sub: 'u1', aud: 'another-app' }),
      await stranger.sign({ sub: 'u1' }),
    ];
    for (const token of cases) {
      const res = await call(server.url, '/v1/me', token);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe(ErrorCode.UNAUTHORIZED);
    }
    const expired = await call(
      server.url,
      '/v1/me',
      await idp.sign({ sub: 'u1', exp: Math.floor(Date.now() / 1000) - 120 }),
    );
    expect(expired.body.error.code).toBe(ErrorCode.TOKEN_EXPIRED);
  });

  it('refuses an HS256 token made with the public key as its secret, and alg none', async () => {
    const { idp, server } = await jwksSetup();
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ sub: 'u1', iss: idp.issuer, aud: idp.audience, exp: now + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode(JSON.stringify(idp.publicJwk)));
    expect((await call(server.url, '/v1/me', forged)).status).toBe(401);
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ sub: 'u1', iss: idp.issuer, aud: idp.audience, exp: now + 60 }),
    ).toString('base64url');
    expect((await call(server.url, '/v1/me', `${header}.${body}.`)).status).toBe(401);
  });

  it('keeps verifying with cached keys while the JWKS endpoint is down, then refuses with a retry-after, then recovers', async () => {
    const { idp, jwks, server } = await jwksSetup({ keyCacheMs: 400, jwksRetryAfterMs: 7_000 });
    const token = await idp.sign({ sub: 'user-9' });
    expect((await call(server.url, '/v1/me', token)).status).toBe(200);
    jwks.setDown(true);
    // Within the keys' lifetime: still fine, and nothing was fetched again.
    const fetchesBefore = jwks.fetches;
    expect((await call(server.url, '/v1/me', token)).status).toBe(200);
    expect(jwks.fetches).toBe(fetchesBefore);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refused = await call(server.url, '/v1/me', token);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: ErrorCode.UNAUTHORIZED, retryAfterMs: 7_000 });
    await expect(openSocket(server.url, token)).rejects.toThrow(/HTTP 401/);
    // The node is alive and serves what needs no token.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    jwks.setDown(false);
    expect((await call(server.url, '/v1/me', token)).status).toBe(200);
  });

  it('does not provision when told not to: unknown users are refused', async () => {
    const { idp, server } = await jwksSetup({ provision: false });
    const res = await call(server.url, '/v1/me', await idp.sign({ sub: 'nobody' }));
    expect(res.status).toBe(401);
  });
});

describe('bring your own auth: one public key', () => {
  it('verifies tokens against a PEM public key', async () => {
    const idp = await identityProvider();
    const server = await serve(
      createJwtAuthenticator({
        publicKey: idp.publicPem,
        algorithms: ['RS256'],
        issuer: idp.issuer,
        audience: idp.audience,
      }),
    );
    const me = await call(server.url, '/v1/me', await idp.sign({ sub: 'pem-user', name: 'Pem' }));
    expect(me.body.user).toMatchObject({ id: 'pem-user', displayName: 'Pem' });
  });

  it('refuses options that can never work', async () => {
    const idp = await identityProvider();
    const base = { issuer: idp.issuer, audience: idp.audience };
    expect(() => createJwtAuthenticator(base)).toThrow(/exactly one of/);
    expect(() => createJwtAuthenticator({ ...base, publicKey: 'not a key' })).toThrow(/PEM/);
    expect(() => createJwtAuthenticator({ ...base, publicKey: { kty: 'oct', k: 'abc' } })).toThrow(
      /asymmetric/,
    );
    expect(() => createJwtAuthenticator({ ...base, jwksUrl: 'http://id.example.com/jwks' })).toThrow(/https/);
  });
});
