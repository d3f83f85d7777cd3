import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GROUP, DEMO_PASSWORD, demoUsersEnabled, isLoopbackHost, seedDemo } from '../src/demo-seed.js';

describe('demo users', () => {
  const dir = mkdtempSync(join(tmpdir(), 'natter-seed-'));
  let server: NatterServer;
  const fetchFn = (request: Request) => server.fetch(request);

  beforeAll(async () => {
    server = createNatterServer({
      storage: createSqliteStorage({ path: join(dir, 'natter.db') }),
      tokens: { secret: 'demo-seed-test-secret-demo-seed-test-secret' },
      logger: silentLogger(),
    });
    await server.start();
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are on for loopback binds, off elsewhere, and NATTER_DEMO_USERS decides', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.5')).toBe(false);
    expect(demoUsersEnabled(undefined, '127.0.0.1')).toBe(true);
    expect(demoUsersEnabled(undefined, '0.0.0.0')).toBe(false);
    expect(demoUsersEnabled('1', '0.0.0.0')).toBe(true);
    expect(demoUsersEnabled('0', '127.0.0.1')).toBe(false);
  });

  it('creates alice, bob and carol with a group and a 1-1, once', async () => {
    expect(await seedDemo(fetchFn)).toEqual({ createdUsers: ['alice', 'bob', 'carol'], createdGroup: true });
    expect(await seedDemo(fetchFn)).toEqual({ createdUsers: [], createdGroup: false });

    const login = await fetchFn(
      new Request('http://localhost/v1/auth/login', {
        method: 'POST',
        body: JSON.stringify({ username: 'bob', password: DEMO_PASSWORD }),
      }),
    );
    const { accessToken, user } = (await login.json()) as {
      accessToken: string;
      user: { displayName: string };
    };
    expect(user.displayName).toBe('Bob');
    const list = await fetchFn(
      new Request('http://localhost/v1/channels', { headers: { authorization: `Bearer ${accessToken}` } }),
    );
    const { channels } = (await list.json()) as {
      channels: Array<{ kind: string; name: string | null; memberIds: string[] }>;
    };
    expect(channels.filter((ch) => ch.kind === 'group').map((ch) => [ch.name, ch.memberIds.length])).toEqual([
      [DEMO_GROUP, 3],
    ]);
    expect(channels.filter((ch) => ch.kind === 'direct')).toHaveLength(1);
  });
});
