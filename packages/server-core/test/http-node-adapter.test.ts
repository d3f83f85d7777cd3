import { createServer, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { ErrorCode } from '@natter/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { clientIpOf } from '../src/http/client-ip.js';
import { type FetchHandler, toNodeListener } from '../src/http/node-adapter.js';
import { createHarness } from './http-harness.js';

const servers: Server[] = [];

async function listen(fetch: FetchHandler, maxBodyBytes = 1024): Promise<number> {
  const server = createServer(toNodeListener(fetch, { maxBodyBytes }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw node client request, so the test controls Content-Length and chunking exactly. */
function send(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string | number>; chunks?: Buffer[] },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/',
        headers: options.headers,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString() }),
        );
        res.on('error', reject);
      },
    );
    // The server may close while we still write an oversized body; the response already arrived then.
    req.on('error', (err) => reject(err));
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

describe('toNodeListener', () => {
  it('serves the API over a real socket', async () => {
    const h = await createHarness();
    const port = await listen(h.api.fetch, 64 * 1024);
    const body = Buffer.from(JSON.stringify({ username: 'ann', password: 'correct horse' }));
    const res = await send(port, {
      path: '/v1/auth/signup',
      headers: { 'content-type': 'application/json', 'content-length': body.length },
      chunks: [body],
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body).user.username).toBe('ann');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('answers 413 from Content-Length alone, before reading the body', async () => {
    let called = false;
    const port = await listen(async () => {
      called = true;
      return new Response('{}');
    });
    const res = await send(port, { headers: { 'content-length': 2048 }, chunks: [Buffer.alloc(2048, 'a')] });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(res.headers.connection).toBe('close');
    expect(called).toBe(false);
  });

  it('answers 413 for a chunked body once it passes the limit', async () => {
    let called = false;
    const port = await listen(async () => {
      called = true;
      return new Response('{}');
    });
    const res = await send(port, {
      headers: { 'transfer-encoding': 'chunked' },
      chunks: [Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')],
    });
    expect(res.status).toBe(413);
    expect(called).toBe(false);
  });

  it('passes a body at the limit through intact', async () => {
    const port = await listen(
      async (request) => new Response(String((await request.arrayBuffer()).byteLength)),
    );
    const res = await send(port, { headers: { 'content-length': 1024 }, chunks: [Buffer.alloc(1024, 'a')] });
    expect(res.status).toBe(200);
    expect(res.body).toBe('1024');
  });

  it('builds the URL from Host and path and records the client address', async () => {
    let seen: { url: string; ip: string | undefined; method: string } | undefined;
    const port = await listen(async (request) => {
      seen = { url: request.url, ip: clientIpOf(request), method: request.method };
      return new Response(null, { status: 204 });
    });
    const res = await send(port, {
      method: 'GET',
      path: '/v1/x?y=1',
      headers: { host: 'chat.example:8080' },
    });
    expect(res.status).toBe(204);
    expect(seen).toEqual({ url: 'http://chat.example:8080/v1/x?y=1', ip: '127.0.0.1', method: 'GET' });
  });

  it('refuses a Host header that would move the URL elsewhere', async () => {
    const port = await listen(async () => new Response('{}'));
    const res = await send(port, { method: 'GET', path: '/v1/me', headers: { host: 'evil.example/x?' } });
    expect(res.status).toBe(400);
  });

  it('never throws: a failing handler becomes a 500', async () => {
    const port = await listen(async () => {
      throw new Error('boom');
    });
    const res = await send(port, { method: 'GET', path: '/' });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body).error).toEqual({
      code: ErrorCode.INTERNAL,
      message: 'internal server error',
    });
  });

  it('streams a response body back', async () => {
    const port = await listen(async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 50; i++) controller.enqueue(new TextEncoder().encode(`${i},`));
          controller.close();
        },
      });
      return new Response(stream, { headers: { 'x-test': 'yes' } });
    });
    const res = await send(port, { method: 'GET', path: '/' });
    expect(res.headers['x-test']).toBe('yes');
    expect(res.body.split(',').filter(Boolean)).toHaveLength(50);
  });

  it('closes the connection after a 413 even while the client keeps streaming', async () => {
    const port = await listen(async () => new Response('{}'));
    for (const framing of ['Content-Length: 100000000', 'Transfer-Encoding: chunked']) {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (d) => {
        received += d;
      });
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\n${framing}\r\n\r\n`);
      const chunk = framing.startsWith('Transfer') ? `400\r\n${'a'.repeat(1024)}\r\n` : 'a'.repeat(1024);
      const pump = setInterval(() => {
        if (!socket.destroyed) socket.write(chunk);
      }, 5);
      await closed;
      clearInterval(pump);
      expect(received.split('\r\n')[0], framing).toBe('HTTP/1.1 413 Payload Too Large');
    }
  });
});
