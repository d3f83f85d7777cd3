import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests import sibling packages from source, so `npm test` needs no build first.
export default defineConfig({
  resolve: {
    alias: {
      '@natter/protocol': src('./packages/protocol/src/index.ts'),
      '@natter/server-core': src('./packages/server-core/src/index.ts'),
      '@natter/storage-memory': src('./packages/storage-adapters/memory/src/index.ts'),
      '@natter/storage-sqlite': src('./packages/storage-adapters/sqlite/src/index.ts'),
      '@natter/storage-level': src('./packages/storage-adapters/level/src/index.ts'),
      '@natter/storage-postgres': src('./packages/storage-adapters/postgres/src/index.ts'),
      '@natter/storage-conformance': src('./packages/storage-adapters/conformance/src/index.ts'),
      '@natter/blob-conformance': src('./packages/storage-adapters/blob-conformance/src/index.ts'),
      '@natter/blob-fs': src('./packages/storage-adapters/blob-fs/src/index.ts'),
      '@natter/blob-s3': src('./packages/storage-adapters/blob-s3/src/index.ts'),
      '@natter/media': src('./packages/media/src/index.ts'),
      // Sub-path entries before their package: aliases match by prefix.
      '@natter/client/level': src('./packages/client-sdk/src/level.ts'),
      '@natter/client': src('./packages/client-sdk/src/index.ts'),
      '@natter/push/verify': src('./packages/push/src/verify.ts'),
      '@natter/push': src('./packages/push/src/index.ts'),
      '@natter/broker-conformance': src('./packages/broker-conformance/src/index.ts'),
      '@natter/broker-redis': src('./packages/broker-redis/src/index.ts'),
      '@natter/broker-nats': src('./packages/broker-nats/src/index.ts'),
      '@natter/registry-zookeeper': src('./packages/registry-zookeeper/src/index.ts'),
    },
  },
  test: {
    include: ['packages/**/test/**/*.test.ts', 'tests/**/*.test.ts', 'examples/**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
