import { CloseCode, ErrorCode, parseDiscoveryAnswer } from '@natter/protocol';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { internalsOf } from '../src/internals.js';
import { silentLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { createNatterServer, type NatterServer } from '../src/server.js';

const SECRET = 'discovery-routes-secret-discovery-routes-secret';

describe('discovery and ping routes of a node', () => {
  const servers: NatterServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function node(options: { maxConnections?: number } = {}) {
    const server = createNatterServer({
      storage: createMemoryStorage(),
      tokens: { secret: SECRET },
      region: 'eu-west',
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
      ...options,
    });
    servers.push(server);
    const { url } = await server.listen(0);
    return { server, url };
  }

  it('answers itself as the one candidate when it has no registry', async () => {
    const { server, url } = await node();
    const res = await fetch(`${url}/v1/discovery`);
    expect(res.status).toBe(200);
    const answer = parseDiscoveryAnswer(await res.json());
    expect(answer?.candidates).toEqual([
      {
        nodeId: server.nodeId,
        wsUrl: `${url.replace('http', 'ws')}/v1/ws`,
        pingUrl: `${url}/v1/ping`,
        region: 'eu-west',
        load: 0,
      },
    ]);
    expect(answer?.wsUrl).toBe(answer?.candidates?.[0]?.wsUrl);
  });

  it('refuses a malformed discovery query with 400', async () => {
    const { url } = await node();
    const tooLong = await fetch(`${url}/v1/discovery?region=${'r'.repeat(65)}`);
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ error: { code: ErrorCode.BAD_REQUEST } });
    const tooMany = await fetch(
      `${url}/v1/discovery?failed=${Array.from({ length: 9 }, (_, i) => i).join(',')}`,
    );
    expect(tooMany.status).toBe(400);
  });

  it('answers a ping with its id and region, in the body and in headers', async () => {
    const { server, url } = await node();
    const res = await fetch(`${url}/v1/ping`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-natter-node')).toBe(server.nodeId);
    expect(res.headers.get('x-natter-region')).toBe('eu-west');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ nodeId: server.nodeId, region: 'eu-west', status: 'ok' });
  });

  it('answers ping and discovery with 503 and a retry delay once draining', async () => {
    const { server, url } = await node();
    await server.drain();
    for (const path of ['/v1/ping', '/v1/discovery']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ error: { code: ErrorCode.UNAVAILABLE, retryAfterMs: 1_000 } });
    }
  });

  it('closes sockets past maxConnections with 1013 and the retry delay in the reason', async () => {
    const { server, url } = await node({ maxConnections: 1 });
    await internalsOf(server).storage.accounts.createUser({
      id: 'u_full',
      username: 'full',
      displayName: 'full',
      passwordHash: null,
      createdAt: 0,
    });
    const { accessToken } = await internalsOf(server).tokens!.issue('u_full', 'dev_1');
    const open = (device: string) =>
      new WebSocket(
        `${url.replace('http', 'ws')}/v1/ws?access_token=${accessToken}&device=${device}`,
        'natter.v1.json',
      );
    const first = open('dev_1');
    await new Promise((resolve) => first.once('message', resolve)); // hello
    const second = open('dev_2');
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      second.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed.code).toBe(CloseCode.TRY_AGAIN_LATER);
    expect(closed.reason).toBe('overloaded; retryAfterMs=2000');
    expect(first.readyState).toBe(WebSocket.OPEN);
    first.close();
  });
});
