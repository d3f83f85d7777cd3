import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createNatterServer,
  type NatterServer,
  type NatterServerOptions,
  silentLogger,
} from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** A natter server on a fresh SQLite file in a temp dir, listening on 127.0.0.1. */
export interface TestServer {
  server: NatterServer;
  url: string;
  dir: string;
  /** Stops this server and starts a new one on the same data (a restart). */
  restart(): Promise<TestServer>;
  stop(): Promise<void>;
}

export async function startServer(
  overrides: Partial<NatterServerOptions> = {},
  dir = mkdtempSync(join(tmpdir(), 'natter-test-')),
  port = 0,
): Promise<TestServer> {
  const server = createNatterServer({
    storage: createSqliteStorage({ path: join(dir, 'natter.db') }),
    tokens: { secret: TEST_SECRET },
    logger: silentLogger(),
    // The suites sign up many users and reconnect often from 127.0.0.1; those limits have tests of their own.
    resourceLimits: {
      signupsPerAddress: { perSecond: 1_000, burst: 1_000 },
      connectsPerUser: { perSecond: 1_000, burst: 1_000 },
      handshakesPerAddress: { perSecond: 1_000, burst: 1_000 },
    },
    ...overrides,
  });
  const { url, port: actual } = await server.listen(port);
  const handle: TestServer = {
    server,
    url,
    dir,
    async restart() {
      await server.close();
      return startServer(overrides, dir, actual);
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Result of signing up through the HTTP API. */
export interface TestUser {
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  deviceId: string;
}

let counter = 0;

export async function signup(
  url: string,
  username = `user${++counter}_${Date.now() % 100000}`,
): Promise<TestUser> {
  const res = await fetch(`${url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'correct horse battery' }),
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    user: { id: string; username: string };
    accessToken: string;
    refreshToken: string;
    deviceId: string;
  };
  return {
    id: body.user.id,
    username: body.user.username,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    deviceId: body.deviceId,
  };
}

/** Calls the HTTP API as `user`, returning status and parsed body. */
export async function api<T = unknown>(
  url: string,
  user: TestUser | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(user ? { authorization: `Bearer ${user.accessToken}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
