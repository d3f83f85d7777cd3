import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SUBPROTOCOL_JSON } from '@natter/protocol';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createNatterServer, type NatterServer, silentLogger } from '../src/index.js';
import { internalsOf } from '../src/internals.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let natter: NatterServer | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await natter?.close();
});

describe('an open connection keeps nothing of its upgrade request', () => {
  it('lets the request (its headers, its URL and the token in it) be collected while the socket stays open', async () => {
    const storage = createMemoryStorage();
    natter = createNatterServer({
      storage,
      tokens: { secret: 'upgrade-retention-secret-upgrade-retention-secret' },
      logger: silentLogger(),
    });
    const { url, server } = await natter.listen(0, '127.0.0.1');
    await storage.accounts.createUser({
      id: 'u_keep',
      username: 'keeper',
      displayName: 'Keeper',
      passwordHash: null,
      createdAt: Date.now(),
    });
    const { accessToken } = await internalsOf(natter).tokens!.issue('u_keep', 'd1');
    // Only weak references to the requests: the test itself must not keep them alive.
    const requests: Array<WeakRef<object>> = [];
    server.prependListener('upgrade', (req: object) => {
      requests.push(new WeakRef(req));
    });
    for (let i = 0; i < 3; i++) {
      const ws = new WebSocket(
        `${url.replace('http', 'ws')}/v1/ws?access_token=${accessToken}`,
        SUBPROTOCOL_JSON,
      );
      clients.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
      });
    }
    expect(requests).toHaveLength(3);
    for (let i = 0; i < 10 && requests.some((r) => r.deref() !== undefined); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      gc();
    }
    expect(requests.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    expect(clients.every((c) => c.readyState === WebSocket.OPEN)).toBe(true);
  });
});
