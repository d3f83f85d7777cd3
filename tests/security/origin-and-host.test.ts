import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signup, startServer, type TestServer } from '../helpers/server.js';

let ts: TestServer;
afterEach(async () => {
  await ts?.stop();
});

/** An HTTP request with a Host header of our choosing (fetch does not let one set it). */
function get(path: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(path, ts.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: url.port, path: url.pathname, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function upgrade(token: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL('/v1/ws', ts.url.replace(/^http/, 'ws'));
    url.searchParams.set('access_token', token);
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

const port = () => new URL(ts.url).port;

describe('Host allowlist (DNS rebinding)', () => {
  it('answers the bound address and localhost, and refuses any other Host with 403', async () => {
    ts = await startServer();
    expect(await get('/healthz', { host: `127.0.0.1:${port()}` })).toBe(200);
    expect(await get('/healthz', { host: `localhost:${port()}` })).toBe(200);
    // A dev server's proxy on another local port forwards its own Host: loopback names pass at any port.
    expect(await get('/healthz', { host: 'localhost:5173' })).toBe(200);
    expect(await get('/healthz', { host: 'evil.example' })).toBe(403);
    // A rebinding page: its own name, resolved to our address, sent as Host and as a same-origin Origin.
    const evil = `evil.example:${port()}`;
    expect(await get('/healthz', { host: evil })).toBe(403);
    expect(await get('/v1/openapi.json', { host: evil, origin: `http://${evil}` })).toBe(403);
    const alice = await signup(ts.url);
    expect(await upgrade(alice.accessToken, { host: evil, origin: `http://${evil}` })).toBe(403);
    expect(await upgrade(alice.accessToken, { host: `localhost:${port()}` })).toBe(101);
  });

  it('takes an explicit allowlist, or any Host with *', async () => {
    ts = await startServer({ allowedHosts: ['chat.example.com'] });
    expect(await get('/healthz', { host: 'chat.example.com' })).toBe(200);
    expect(await get('/healthz', { host: `127.0.0.1:${port()}` })).toBe(403);
    await ts.stop();
    ts = await startServer({ allowedHosts: '*' });
    expect(await get('/healthz', { host: 'anything.example' })).toBe(200);
  });
});

describe('Origin scheme', () => {
  it('refuses an Origin with our host but another scheme, accepts the same scheme', async () => {
    ts = await startServer();
    const alice = await signup(ts.url);
    const host = `127.0.0.1:${port()}`;
    expect(await upgrade(alice.accessToken, { origin: `https://${host}` })).toBe(403);
    expect(await upgrade(alice.accessToken, { origin: `http://${host}` })).toBe(101);
    const res = await fetch(`${ts.url}/v1/me`, {
      headers: { origin: `https://${host}`, authorization: `Bearer ${alice.accessToken}` },
    });
    expect(res.status).toBe(403);
  });
});

describe('/metrics token', () => {
  it('requires the bearer token when one is configured', async () => {
    ts = await startServer({ metricsToken: 'scrape-me-please' });
    expect((await fetch(`${ts.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${ts.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${ts.url}/metrics`, { headers: { authorization: 'Bearer scrape-me-please' } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('natter_');
  });

  it('is open without a token (the default)', async () => {
    ts = await startServer();
    expect((await fetch(`${ts.url}/metrics`)).status).toBe(200);
  });
});
