/**
 * Runs ts-mls' own RFC 9420 test-vector suites (copied verbatim into vectors/ from ts-mls' `1.x` branch,
 * commit 44963b7, MIT, imports rewritten from `../../src/*` to the published package's `ts-mls/*.js`) against
 * the installed ts-mls and the official vectors of the MLS working group (github.com/mlswg/mls-implementations,
 * directory test-vectors/; checked here at commit cfd4502). So this checks the published build, not ts-mls'
 * source tree, on the working group's files rather than ts-mls' copies.
 *
 *   node vectors.mjs /path/to/mls-implementations/test-vectors
 *
 * core-crypto cannot run these: its API exposes no tree math, key schedule or framing internals, and its own
 * vector tests run in OpenMLS' Rust test suite, not through the JavaScript package.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVitest } from 'vitest/node';

const dir = process.argv[2] ?? process.env.MLS_VECTORS_DIR;
if (!dir || !existsSync(resolve(dir, 'tree-math.json'))) {
  console.error('usage: node vectors.mjs <mls-implementations/test-vectors directory>');
  process.exit(2);
}
const root = fileURLToPath(new URL('./vectors/', import.meta.url));
const vitest = await startVitest(
  'test',
  [],
  {
    root,
    config: false,
    globals: true,
    include: ['*.test.ts'],
    testTimeout: 120_000,
    maxConcurrency: 2,
    watch: false,
    reporters: ['default'],
  },
  {
    resolve: { alias: { '@mls-vectors': resolve(dir) } },
  },
);
await vitest?.close();
process.exit(process.exitCode ?? 0);
