import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runStorageConformance } from '@natter/storage-conformance';
import { createSqliteStorage } from '../src/index.js';

runStorageConformance({
  name: 'sqlite',
  factory: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-sqlite-'));
    const file = path.join(dir, 'store', 'natter.db');
    return {
      adapter: createSqliteStorage({ path: file }),
      reopen: async () => createSqliteStorage({ path: file }),
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
});
