/**
 * Builds the end-to-end encryption test page (fixtures/e2ee/: a harness around `@natter/e2ee`, bundled by
 * Vite from the package's source, minified as an app would ship it), measures its bundle, and serves it on
 * 127.0.0.1.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const fixtures = fileURLToPath(new URL('../fixtures/e2ee/', import.meta.url));
const e2eeSource = fileURLToPath(new URL('../../../packages/e2ee/src/index.ts', import.meta.url));

/** The served page and the size of its JavaScript. */
export interface E2eePage {
  origin: string;
  /** Minified JavaScript of the page (the engine, ts-mls and its crypto), raw and gzipped. */
  bytes: number;
  gzipBytes: number;
  close(): Promise<void>;
}

/** Builds and serves the page. */
export async function serveE2eePage(): Promise<E2eePage> {
  const dir = await mkdtemp(join(tmpdir(), 'natter-e2ee-page-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    root: fixtures,
    resolve: { alias: { '@natter/e2ee': e2eeSource } },
    build: { outDir: dir, emptyOutDir: true, minify: true, target: 'es2022', reportCompressedSize: false },
  });
  const assets = readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.js'));
  const code = Buffer.concat(assets.map((f) => readFileSync(join(dir, 'assets', f))));
  const files = new Map<string, string>([['/', join(dir, 'index.html')]]);
  for (const f of assets) files.set(`/assets/${f}`, join(dir, 'assets', f));
  const server = createServer((req, res) => {
    const file = files.get((req.url ?? '/').split('?')[0]!);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const type = extname(file) === '.html' ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
