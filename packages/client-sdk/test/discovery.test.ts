import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscover, createPing } from '../src/discovery.js';
import type { FetchLike } from '../src/transport.js';

/**
 * The SDK's discovery request and default ping against a real HTTP server on 127.0.0.1 whose answers the
 * test scripts per path: what the client does with good answers, "no healthy node", and bad input.
 */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const seen: string[] = [];
let server: Server;
let base = '';
const getFetch = (): FetchLike => (url, init) => fetch(url, init as RequestInit);

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const handler = routes.get((req.url ?? '').split('?')[0]!);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
};

const candidate = { nodeId: 'n1', wsUrl: 'ws://127.0.0.1:1/v1/ws', region: 'eu', load: 0 };

describe('createDiscover', () => {
  it('sends the region and the failed nodes, and returns the validated answer', async () => {
    routes.set('/d1', json(200, { wsUrl: candidate.wsUrl, region: 'eu', candidates: [candidate] }));
    const outcome = await createDiscover(
      `${base}/d1`,
      getFetch,
      1_000,
    )({ region: 'eu west', failed: ['a', 'b'] });
    expect(outcome).toEqual({
      kind: 'answer',
      answer: { wsUrl: candidate.wsUrl, region: 'eu', candidates: [candidate] },
    });
    expect(seen.at(-1)).toBe('/d1?region=eu%20west&failed=a,b');
  });

  it('reads a natter 503 as "no healthy node" with its delay', async () => {
    routes.set(
      '/d2',
      json(503, {
        error: { code: 'NATTER_UNAVAILABLE', message: 'no healthy chat node', retryAfterMs: 1_500 },
      }),
    );
    const outcome = await createDiscover(`${base}/d2`, getFetch, 1_000)({ region: undefined, failed: [] });
    expect(outcome).toEqual({ kind: 'none', retryAfterMs: 1_500 });
  });

  it("rejects a 503 that is not natter's (a load balancer with the API down), so the client falls back", async () => {
    routes.set('/d3', (_req, res) => res.writeHead(503, { 'retry-after': '5' }).end('Service Unavailable'));
    await expect(
      createDiscover(`${base}/d3`, getFetch, 1_000)({ region: undefined, failed: [] }),
    ).rejects.toThrow(/HTTP 503/);
  });

  it('rejects an answer that is not a discovery answer', async () => {
    routes.set('/d4', json(200, { wsUrl: 'javascript:alert(1)', region: 'eu' }));
    await expect(
      createDiscover(`${base}/d4`, getFetch, 1_000)({ region: undefined, failed: [] }),
    ).rejects.toThrow(/not a discovery answer/);
    routes.set('/d5', (_req, res) => res.writeHead(200).end('<html>'));
    await expect(
      createDiscover(`${base}/d5`, getFetch, 1_000)({ region: undefined, failed: [] }),
    ).rejects.toThrow();
  });

  it('gives up after its timeout when discovery does not answer', async () => {
    routes.set('/d6', () => undefined);
    const started = performance.now();
    await expect(
      createDiscover(`${base}/d6`, getFetch, 200)({ region: undefined, failed: [] }),
    ).rejects.toThrow(/timed out/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('createPing', () => {
  it('measures the time to the answer of the ping URL', async () => {
    routes.set('/p1', (_req, res) => setTimeout(() => json(200, { status: 'ok' })(_req, res), 30));
    const rtt = await createPing(getFetch)({ ...candidate, pingUrl: `${base}/p1` }, 1_000);
    expect(rtt).toBeGreaterThanOrEqual(29);
    expect(rtt).toBeLessThan(1_000);
  });

  it('counts any answer but 503 as reachable (an older node answers 404)', async () => {
    await expect(
      createPing(getFetch)({ ...candidate, pingUrl: `${base}/missing` }, 1_000),
    ).resolves.toBeTypeOf('number');
    routes.set('/p2', json(503, { error: { code: 'NATTER_UNAVAILABLE', message: 'draining' } }));
    await expect(createPing(getFetch)({ ...candidate, pingUrl: `${base}/p2` }, 1_000)).rejects.toThrow(
      /draining/,
    );
  });

  it('rejects after its timeout, and at once for a candidate without a ping URL or a refused port', async () => {
    routes.set('/p3', () => undefined);
    await expect(createPing(getFetch)({ ...candidate, pingUrl: `${base}/p3` }, 100)).rejects.toThrow(
      /timed out/,
    );
    await expect(createPing(getFetch)(candidate, 100)).rejects.toThrow(/no ping URL/);
    await expect(
      createPing(getFetch)({ ...candidate, pingUrl: 'http://127.0.0.1:1/v1/ping' }, 1_000),
    ).rejects.toThrow();
  });
});
