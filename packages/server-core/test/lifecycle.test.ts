import { createMemoryStorage } from '@natter/storage-memory';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import type { StorageAdapter } from '../src/ports/storage.js';
import { createNatterServer } from '../src/server.js';

const SECRET = 'lifecycle-test-secret-lifecycle-test-secret';

function server(storage: StorageAdapter) {
  return createNatterServer({
    storage,
    tokens: { secret: SECRET },
    logger: silentLogger(),
    metrics: createMetrics({ defaults: false }),
  });
}

describe('server lifecycle', () => {
  it('can be started again after a start that failed, and then serves', async () => {
    const storage = createMemoryStorage();
    const realOpen = storage.open.bind(storage);
    let failures = 1;
    const flaky: StorageAdapter = {
      ...storage,
      open: async () => {
        if (failures-- > 0) throw new Error('database not reachable yet');
        return realOpen();
      },
      close: () => storage.close(),
    };
    const natter = server(flaky);
    await expect(natter.start()).rejects.toThrow('database not reachable yet');
    await natter.start();
    const response = await natter.fetch(
      new Request('http://api.test/v1/auth/signup', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'ada', password: 'correct horse battery' }),
      }),
    );
    expect(response.status).toBe(201);
    await natter.close();
  });

  it('refuses at start, with a clear error, a storage adapter of another contract version', async () => {
    const storage = createMemoryStorage();
    const old: StorageAdapter = { ...storage, manifest: { ...storage.manifest, contractVersion: 1 } };
    const natter = server(old);
    await expect(natter.start()).rejects.toMatchObject({
      code: 'NATTER_STORE_VERSION_UNSUPPORTED',
      message: expect.stringContaining('implements storage contract 1'),
    });
    await natter.close();
  });

  it('refuses an adapter that declares search without implementing it', async () => {
    const storage = createMemoryStorage();
    const { searchMessages: _search, ...chat } = storage.chat;
    const liar: StorageAdapter = { ...storage, chat };
    await expect(server(liar).start()).rejects.toMatchObject({
      code: 'NATTER_STORE_VERSION_UNSUPPORTED',
      message: expect.stringContaining('declares search'),
    });
  });

  it('refuses to start again once closed', async () => {
    const natter = server(createMemoryStorage());
    await natter.start();
    await natter.close();
    await expect(natter.start()).rejects.toThrow('closed');
  });
});
