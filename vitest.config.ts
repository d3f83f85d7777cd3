import { defineConfig } from 'vitest/config';
import { SOURCE_ENTRIES, sourceEntry } from './scripts/source-packages.js';

// Tests import sibling packages from source, so `npm test` needs no build first.
export default defineConfig({
  resolve: {
    alias: Object.fromEntries(
      Object.keys(SOURCE_ENTRIES).map((specifier) => [specifier, sourceEntry(specifier)!]),
    ),
  },
  test: {
    include: [
      'packages/**/test/**/*.test.{ts,tsx}',
      'tests/**/*.test.ts',
      'examples/**/test/**/*.test.{ts,tsx}',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
