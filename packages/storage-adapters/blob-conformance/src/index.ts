/**
 * The conformance suite every natter blob store adapter runs: vitest tests of the `BlobStore` contract
 * of `@natter/server-core` (content addressing, ranges, streaming with bounded memory, concurrent and
 * failing uploads, presigned URLs when declared, persistence).
 * @packageDocumentation
 */
/** The byte helpers the checks use (sources, readers, RSS tracking), for adapters' own tests. */
export * as blobTestBytes from './bytes.js';
export { type BlobCheckName, blobChecks } from './checks/index.js';
export type {
  BlobCheck,
  BlobCheckContext,
  BlobConformanceOptions,
  BlobConformanceScale,
  BlobFactory,
  BlobHarness,
} from './harness.js';
export { defineBlobCheck } from './harness.js';
export { blobScale, DEFAULT_BLOB_SCALE, runBlobCheck } from './run-check.js';
export { runBlobConformance } from './suite.js';
