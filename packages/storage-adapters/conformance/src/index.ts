/**
 * The conformance suite every natter storage adapter runs: vitest tests of the storage contract
 * (`@natter/server-core`'s `StorageAdapter`), including concurrency, rollback and durability.
 * @packageDocumentation
 */
export { type StorageCheckName, storageChecks } from './checks/index.js';
export { type CrashAck, type CrashSafetyOptions, checkCrashSafety, runUntilKilled } from './crash.js';
export { withoutAppendChecked } from './generic-send.js';
export type {
  CheckContext,
  ConformanceCheck,
  ConformanceOptions,
  ConformanceScale,
  StorageFactory,
  StorageHarness,
} from './harness.js';
export { defineCheck } from './harness.js';
export { DEFAULT_SCALE, type RunCheckOptions, runCheck } from './run-check.js';
export { runStorageConformance } from './suite.js';
