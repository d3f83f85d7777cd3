/**
 * Builds the SDK test page (fixtures/: a harness around `@natter/client`, bundled by Vite from the SDK's
 * source) into a temp dir, measures the SDK's browser bundle, and serves the page on 127.0.0.1.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type InlineConfig } from 'vite';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const src = (path: string) => fileURLToPath(new URL(`../../../packages/${path}`, import.meta.url));

/** The SDK from source, like the root vitest config: no package build needed. */
const alias = {
  '@natter/client': src('client-sdk/src/index.ts'),
  '@natter/protocol': src('protocol/src/index.ts'),
};

function viteConfig(root: string, outDir: string): InlineConfig {
  return {
    configFile: false,
    logLevel: 'warn',
    root,
    resolve: { alias },
    build: { outDir, emptyOutDir: true, minify: true, target: 'es2022', reportCompressedSize: false },
  };
}

/** Size of the SDK's browser bundle: every export, minified ESM. */
export interface BundleSize {
  /** What a page loads at once: the entry chunk and the chunks it imports statically. */
  bytes: number;
  gzipBytes: number;
  /** Everything, with the chunks loaded on first use (resumable uploads, the MLS engine). */
  totalBytes: number;
}

/**
 * Bundles the whole SDK for the browser and measures it. An app build (Vite's library mode keeps whitespace
 * in ES output) whose entry keeps every export alive through the namespace object. What the built page
 * names (its script and modulepreload links) is loaded at once; the other chunks only on first use.
 */
export async function measureSdkBundle(): Promise<BundleSize> {
  const dir = await mkdtemp(join(tmpdir(), 'natter-sdk-bundle-'));
  try {
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><script type="module" src="./entry.js"></script>\n',
    );
    writeFileSync(
      join(dir, 'entry.js'),
      "import * as natter from '@natter/client';\nglobalThis.natter = natter;\n",
    );
    const config = viteConfig(dir, join(dir, 'dist'));
    await build({ ...config, build: { ...config.build, modulePreload: { polyfill: false } } });
    const assets = join(dir, 'dist', 'assets');
    const html = readFileSync(join(dir, 'dist', 'index.html'), 'utf8');
    const files = readdirSync(assets).filter((f) => f.endsWith('.js'));
    const eager = files.filter((f) => html.includes(`assets/${f}`));
    const read = (list: string[]) => Buffer.concat(list.map((f) => readFileSync(join(assets, f))));
    const code = read(eager);
    return {
      bytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      totalBytes: read(files).length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** The built test page, served over HTTP. */
export interface SdkPage {
  /** Origin of the page (give it to the natter server's `allowedOrigins`). */
  origin: string;
  close(): Promise<void>;
}

/** Builds the harness page and serves it (with its offline service worker) on 127.0.0.1. */
export async function serveSdkPage(): Promise<SdkPage> {
  const dir = await mkdtemp(join(tmpdir(), 'natter-sdk-page-'));
  await build(viteConfig(fixtures, dir));
  writeFileSync(join(dir, 'sw.js'), readFileSync(join(fixtures, 'sw.js')));
  const files = new Map<string, string>([['/', join(dir, 'index.html')]]);
  for (const name of ['sw.js', ...readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`)])
    if (statSync(join(dir, name)).isFile()) files.set(`/${name}`, join(dir, name));
  const server: Server = createServer((req, res) => {
    const file = files.get((req.url ?? '/').split('?')[0]!);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
