import { runStorageConformance } from '@natter/storage-conformance';
import { createMemoryStorage } from '../src/index.js';

runStorageConformance({
  name: 'memory',
  factory: async () => ({ adapter: createMemoryStorage(), cleanup: async () => {} }),
  // Not persistent: the durability checks skip themselves, and a reopened run would only skip too.
  reopenedRun: false,
});
