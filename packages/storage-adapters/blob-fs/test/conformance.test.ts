import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBlobConformance } from '@natter/blob-conformance';
import { createFsBlobStore } from '../src/index.js';

runBlobConformance({
  name: 'fs',
  factory: async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-blob-fs-'));
    return {
      store: createFsBlobStore({ root }),
      reopen: async () => createFsBlobStore({ root }),
      cleanup: async () => fs.rmSync(root, { recursive: true, force: true }),
    };
  },
});
