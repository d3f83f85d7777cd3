import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runStorageConformance } from '@natter/storage-conformance';
import { createLevelStorage } from '../src/index.js';

runStorageConformance({
  name: 'level',
  factory: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-level-'));
    const location = path.join(dir, 'store');
    return {
      adapter: createLevelStorage({ path: location }),
      reopen: async () => createLevelStorage({ path: location }),
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
});
