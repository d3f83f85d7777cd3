/**
 * examples/react-minimal as a user gets it: built by Vite (with `@natter/*` from source, so no package
 * build is needed first) and served with a real natter node on one origin (127.0.0.1, random port): the
 * node answers `/v1/...`, every other path is the built app.
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import { REPO_ROOT, SOURCE_ENTRIES, sourceEntry } from '../../../scripts/source-packages.js';

/** A running example with its server. */
export interface ReactExample {
  url: string;
  natter: NatterServer;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Builds the example into a temp directory; returns the directory. */
export async function buildReactExample(): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'natter-react-example-'));
  await build({
    configFile: false,
    root: join(REPO_ROOT, 'examples/react-minimal'),
    logLevel: 'warn',
    resolve: {
      alias: Object.keys(SOURCE_ENTRIES).map((find) => ({ find, replacement: sourceEntry(find) ?? find })),
    },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, minify: false },
  });
  return outDir;
}

/** Starts a natter node (memory storage, loose rate limits for seeding) serving the built example. */
export async function startReactExample(outDir: string): Promise<ReactExample> {
  const natter = createNatterServer({
    storage: createMemoryStorage(),
    tokens: { secret: 'react-example-secret-0123456789abcdef012' },
    limits: { sendsPerSecond: 20_000, sendBurst: 20_000 },
    logger: silentLogger(),
  });
  const http: Server = createServer((req, res) => {
    if (natter.handles(req)) {
      natter.requestListener(req, res);
      return;
    }
    const path = normalize(join(outDir, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
    const file =
      path.startsWith(outDir + sep) && existsSync(path) && statSync(path).isFile()
        ? path
        : join(outDir, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  natter.attach(http);
  await natter.start();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    natter,
    stop: async () => {
      await natter.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
