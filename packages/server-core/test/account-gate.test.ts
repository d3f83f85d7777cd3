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
    const signup = await fetch(`${url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'realuser', password: 'long enough' }),
    });
    const { accessToken } = (await signup.json()) as { accessToken: string };
    expect(
      (await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status,
    ).toBe(200);
  });
});
