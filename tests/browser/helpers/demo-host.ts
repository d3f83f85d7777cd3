/**
 * The built web demo served by a natter node in this process (memory storage, the demo users seeded as
 * the reference server seeds them, the reference server's static site with its CSP), for tests that need
 * the server in reach: the server API (`/v1/server/...`, with a key) and settings the CLI does not expose.
 * 127.0.0.1 and a random port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import { seedDemo } from '../../../packages/cli/src/demo-seed.js';
import { createStaticSite } from '../../../packages/cli/src/static-site.js';
import { ensureBuilt } from './reference-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** A server API key with every scope, for the test to read what the server stored. */
export const SERVER_API_KEY = 'demo-host-server-api-key-0123456789abcdef';

/** The demo and its node. */
export interface DemoHost {
  url: string;
  natter: NatterServer;
  /** Calls the server API as the app (`Authorization: Bearer SERVER_API_KEY`); answers the parsed body. */
  serverApi<T>(path: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** Starts the node with the demo users seeded; `presenceGraceMs` as `NATTER_PRESENCE_GRACE_MS`. */
export async function startDemoHost(options: { presenceGraceMs?: number } = {}): Promise<DemoHost> {
  ensureBuilt();
  const natter = createNatterServer({
    storage: createMemoryStorage(),
    tokens: { secret: 'demo-host-secret-0123456789abcdef0123456789' },
    logger: silentLogger(),
    serverApi: { keys: [{ name: 'test', key: SERVER_API_KEY, scopes: '*' }] },
    ...(options.presenceGraceMs ? { presence: { graceMs: options.presenceGraceMs } } : {}),
  });
  const site = createStaticSite(join(root, 'examples/web-demo/dist'));
  const http: Server = createServer((req, res) => {
    if (natter.handles(req)) natter.requestListener(req, res);
    else site(req, res);
  });
  natter.attach(http);
  await natter.start();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  await seedDemo((request) => natter.fetch(request));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    natter,
    async serverApi<T>(path: string) {
      const response = await fetch(`${url}${path}`, {
        headers: { authorization: `Bearer ${SERVER_API_KEY}` },
      });
      return { status: response.status, body: (await response.json()) as T };
    },
    async stop() {
      await natter.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
