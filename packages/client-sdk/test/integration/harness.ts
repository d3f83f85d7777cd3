import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProtocolLimits } from '@natter/protocol';
import { createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import { createSqliteStorage } from '@natter/storage-sqlite';
import WebSocket from 'ws';
import { ChatClient, type ChatClientOptions } from '../../src/index.js';
import type { WebSocketConstructor } from '../../src/transport.js';

export const SECRET = 'integration-test-secret-0123456789abcdef';

/** Limits loose enough that the stress tests measure the SDK, not the rate limiter. */
export const TEST_LIMITS: Partial<ProtocolLimits> = {
  sendsPerSecond: 5_000,
  sendBurst: 5_000,
  maxSyncPage: 500,
};

/** A real natter node on 127.0.0.1 with a random port. */
export interface RunningServer {
  server: NatterServer;
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts a node on SQLite at `dbPath` (or in memory), on `port` (0 picks one). */
export async function startServer(
  options: {
    dbPath?: string;
    port?: number;
    limits?: Partial<ProtocolLimits>;
    accessTtlSeconds?: number;
  } = {},
) {
  const storage = options.dbPath
    ? createSqliteStorage({ path: options.dbPath, synchronous: 'normal' })
    : createMemoryStorage();
  const server = createNatterServer({
    storage,
    tokens: {
      secret: SECRET,
      ...(options.accessTtlSeconds ? { accessTtlSeconds: options.accessTtlSeconds } : {}),
    },
    limits: { ...TEST_LIMITS, ...options.limits },
    // Suites sign up and reconnect freely from 127.0.0.1; the abuse bounds have suites of their own.
    resourceLimits: {
      signupsPerAddress: { perSecond: 1_000, burst: 1_000 },
      connectsPerUser: { perSecond: 1_000, burst: 1_000 },
      handshakesPerAddress: { perSecond: 1_000, burst: 1_000 },
    },
    logger: silentLogger(),
  });
  const { port, url } = await server.listen(options.port ?? 0, '127.0.0.1');
  return { server, url, port, stop: () => server.close() } satisfies RunningServer;
}

/** A temp directory removed by `cleanup()`. */
export function tempDir(prefix = 'natter-it-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Every socket the test clients created, so tests can kill them from the client side. */
export const clientSockets: WebSocket[] = [];

/** A `ws` WebSocket that registers itself in {@link clientSockets}. */
export const TrackedWebSocket = class extends WebSocket {
  constructor(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
    super(url, protocols, options);
    clientSockets.push(this);
  }
} as unknown as WebSocketConstructor;

/** A client for the test server with quick reconnects. */
export function client(url: string, options: Partial<ChatClientOptions> = {}): ChatClient {
  return new ChatClient({
    url,
    WebSocket: TrackedWebSocket,
    backoff: { baseMs: 20, maxMs: 300 },
    requestTimeoutMs: 5_000,
    ...options,
  });
}

/** Resolves when `predicate` holds; fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
