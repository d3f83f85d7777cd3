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
      '@natter/storage-conformance': src('./packages/storage-adapters/conformance/src/index.ts'),
      '@natter/client': src('./packages/client-sdk/src/index.ts'),
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
