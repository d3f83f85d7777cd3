import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  runCheck,
  runStorageConformance,
  type StorageFactory,
  storageChecks,
  withoutAppendChecked,
} from '@natter/storage-conformance';
import { describe, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const factory: StorageFactory = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-sqlite-'));
  const file = path.join(dir, 'store', 'natter.db');
  return {
    adapter: createSqliteStorage({ path: file }),
    reopen: async () => createSqliteStorage({ path: file }),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
};

runStorageConformance({ name: 'sqlite', factory });

// The adapter sends in one step (appendChecked); the core's own three-step path must give the same answers.
describe('send (ChatService) on sqlite without appendChecked (the core path)', () => {
  for (const check of Object.values(storageChecks).filter((c) => c.group === 'send (ChatService)')) {
    it(check.title, async () => {
      await runCheck(withoutAppendChecked(factory), check);
    });
  }
});
