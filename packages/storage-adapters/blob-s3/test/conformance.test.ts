import { runBlobConformance } from '@natter/blob-conformance';
import { afterAll, describe } from 'vitest';
import { adminClient, ensureBucket, removePrefix, s3SuitesRun, testStore, uniquePrefix } from './s3.js';

const run = await s3SuitesRun();
const admin = adminClient();
if (run) await ensureBucket(admin);
afterAll(() => admin.destroy());

describe.skipIf(!run)('S3 (NATTER_S3_URL)', () => {
  runBlobConformance({
    name: 's3',
    factory: async () => {
      const prefix = uniquePrefix();
      return {
        store: testStore(prefix),
        reopen: async () => testStore(prefix),
        cleanup: () => removePrefix(admin, prefix),
      };
    },
  });
});
