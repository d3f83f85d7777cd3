/**
 * Serves a built single-page app (the web demo) from a directory: correct content types, long caching for
 * hashed assets, `index.html` for unknown paths (SPA fallback), and nothing outside the directory.
 */
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/**
 * The page may load only its own scripts and styles and talk only to its own origin (HTTP and WebSocket):
 * an injected script has nowhere to send what it reads.
 */
const CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "script-src 'self'",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** A Node request handler for a static site. */
export type StaticSite = (req: IncomingMessage, res: ServerResponse) => void;

/** The MIME type served for a file name. */
export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Whether `root` holds a built site. */
export function isBuiltSite(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}

/** The file a URL path names inside `root`, or undefined when it would leave `root` or is malformed. */
export function resolveInside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const base = resolve(root);
  const file = resolve(base, `.${decoded.endsWith('/') ? `${decoded}index.html` : decoded}`);
  return file === base || file.startsWith(base + sep) ? file : undefined;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

/** Serves `root`. Paths without an extension that match no file get `index.html` (client-side routes). */
export function createStaticSite(root: string): StaticSite {
  const base = resolve(root);
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
      return;
    }
    const pathname = (req.url ?? '/').split('?')[0]!.split('#')[0]!;
    let file = resolveInside(base, pathname);
    if (!file) {
      send(res, 400, 'bad path');
      return;
    }
    let info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      // Client-side routes have no extension; a missing asset is a real 404 (no HTML served as JS).
      if (extname(pathname) !== '') {
        send(res, 404, 'not found');
        return;
      }
      file = join(base, 'index.html');
      info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) {
        send(res, 404, 'not found');
        return;
      }
    }
    const isHtml = extname(file) === '.html';
    const relative = file
      .slice(base.length + 1)
      .split(sep)
      .join('/');
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = {
      'content-type': contentTypeOf(file),
      // Vite puts content hashes in asset names: they never change, so browsers may keep them for a year.
      'cache-control': relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...(isHtml ? { 'content-security-policy': CSP, 'x-frame-options': 'DENY' } : {}),
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(info.size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };
  return (req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  };
}

/** Answers every page request with a hint that the web demo has not been built. */
export function missingSite(root: string): StaticSite {
  const body = `<!doctype html><meta charset="utf-8"><title>natter</title><h1>natter is running</h1><p>The web demo is not built (no ${root}/index.html). Run <code>npm run build</code> at the repository root, or use the API under <code>/v1</code>.</p>`;
  return (_req, res) => send(res, 404, body, { 'content-type': 'text/html; charset=utf-8' });
}
