import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTypeOf, createStaticSite, resolveInside } from '../src/static-site.js';

describe('static site (the web demo)', () => {
  const root = mkdtempSync(join(tmpdir(), 'natter-site-'));
  let server: Server;
  let base: string;

  beforeAll(async () => {
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, 'sw.js'), '// worker');
    server = createServer(createStaticSite(root));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at / with a content security policy', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('id="app"');
  });

  it('serves hashed assets with their type and a long cache lifetime', async () => {
    const res = await fetch(`${base}/assets/index-abc123.js`);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(await res.text()).toBe('console.log(1)');
    const worker = await fetch(`${base}/sw.js`);
    expect(worker.headers.get('cache-control')).toBe('no-cache');
  });

  it('falls back to index.html for client routes but not for missing files', async () => {
    const route = await fetch(`${base}/conversations/abc`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('id="app"');
    const missing = await fetch(`${base}/assets/missing.js`);
    expect(missing.status).toBe(404);
  });

  it('answers 304 to a matching ETag and refuses other methods', async () => {
    const first = await fetch(`${base}/`);
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${base}/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const post = await fetch(`${base}/`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('never serves a file outside its directory', () => {
    expect(resolveInside(root, '/../secret')).toBeUndefined();
    expect(resolveInside(root, '/..%2f..%2fetc%2fpasswd')).toBeUndefined();
    expect(resolveInside(root, '/%2e%2e/x')).toBeUndefined();
    expect(resolveInside(root, '/a%00b')).toBeUndefined();
    expect(resolveInside(root, '/%E0%A4%A')).toBeUndefined();
    expect(resolveInside(root, '/assets/')).toBe(join(root, 'assets', 'index.html'));
  });

  it('knows the content types it serves', () => {
    expect(contentTypeOf('a.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('a.svg')).toBe('image/svg+xml');
    expect(contentTypeOf('a.unknown')).toBe('application/octet-stream');
  });
});
