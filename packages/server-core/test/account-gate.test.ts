import { ErrorCode, SUBPROTOCOL_JSON } from '@natter/protocol';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createNatterServer, type NatterServer, silentLogger } from '../src/index.js';
import { internalsOf } from '../src/internals.js';

const SECRET = 'account-gate-test-secret-account-gate-test-secret';
let natter: NatterServer | undefined;
afterEach(async () => {
  await natter?.close();
});

/** Signs a user up over HTTP; their access token. */
async function signUp(url: string, username: string): Promise<string> {
  const signup = await fetch(`${url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'long enough' }),
  });
  return ((await signup.json()) as { accessToken: string }).accessToken;
}

describe('natter-token mode: tokens only for users natter knows', () => {
  it('refuses a validly signed token for a user that does not exist, over HTTP and at the WebSocket handshake', async () => {
    natter = createNatterServer({
      storage: createMemoryStorage(),
      tokens: { secret: SECRET },
      logger: silentLogger(),
    });
    const { url } = await natter.listen(0);
    const { accessToken } = await internalsOf(natter).tokens!.issue('u_ghost', 'dev1');
    const res = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.UNAUTHORIZED);
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(
        `${url.replace('http', 'ws')}/v1/ws?access_token=${accessToken}`,
        SUBPROTOCOL_JSON,
      );
      ws.once('unexpected-response', (_req, response) => resolve(response.statusCode ?? 0));
      ws.once('open', () => reject(new Error('the socket opened')));
      ws.once('error', reject);
    });
    expect(status).toBe(401);
  });

  it('accepts the same kind of token once the user exists', async () => {
    natter = createNatterServer({
      storage: createMemoryStorage(),
      tokens: { secret: SECRET },
      logger: silentLogger(),
    });
    const { url } = await natter.listen(0);
    const accessToken = await signUp(url, 'realuser');
    expect(
      (await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status,
    ).toBe(200);
  });
});

describe('a store failure while checking a token', () => {
  it('answers 503 NATTER_UNAVAILABLE with Retry-After, not 401, over HTTP and at the handshake', async () => {
    const memory = createMemoryStorage();
    let failing = false;
    natter = createNatterServer({
      storage: {
        manifest: memory.manifest,
        chat: memory.chat,
        // The account read of the token check fails as a real store's does when its server is full.
        accounts: Object.assign(Object.create(memory.accounts), {
          getUser: (id: string) =>
            failing
              ? Promise.reject(Object.assign(new Error('sorry, too many clients already'), { code: '53300' }))
              : memory.accounts.getUser(id),
        }),
        open: () => memory.open(),
        close: () => memory.close(),
      },
      tokens: { secret: SECRET },
      logger: silentLogger(),
    });
    const { url } = await natter.listen(0);
    const accessToken = await signUp(url, 'storefails');
    // Signing up does not pass the gate: nothing about the user is cached, so the next call reads the store.
    failing = true;
    const res = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.UNAVAILABLE);
    const upgrade = await new Promise<{ status: number; retryAfter: string | undefined }>(
      (resolve, reject) => {
        const ws = new WebSocket(
          `${url.replace('http', 'ws')}/v1/ws?access_token=${accessToken}`,
          SUBPROTOCOL_JSON,
        );
        ws.once('unexpected-response', (_req, response) =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers['retry-after'] as string,
          }),
        );
        ws.once('open', () => reject(new Error('the socket opened')));
        ws.once('error', reject);
      },
    );
    expect(upgrade).toEqual({ status: 503, retryAfter: '1' });
    failing = false;
    expect(
      (await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status,
    ).toBe(200);
  });
});
