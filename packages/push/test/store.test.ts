import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqlitePushStore } from '../src/store/sqlite.js';
import { pushStoreContract } from './helpers/store-contract.js';

describe('push store contract: sqlite', () => {
  pushStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-push-store-'));
    const path = join(dir, 'push.db');
    return {
      store: createSqlitePushStore({ path }),
      reopen: async () => createSqlitePushStore({ path }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });

  it('refuses a store written by a newer version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-push-store-'));
    const path = join(dir, 'push.db');
    try {
      const store = createSqlitePushStore({ path });
      await store.open({ collapseMs: 0 });
      await store.close();
      const db = new Database(path);
      db.pragma('user_version = 99');
      db.close();
      await expect(createSqlitePushStore({ path }).open({ collapseMs: 0 })).rejects.toMatchObject({
        code: 'NATTER_STORE_VERSION_UNSUPPORTED',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
