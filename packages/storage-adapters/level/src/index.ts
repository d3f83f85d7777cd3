/**
 * LevelDB storage adapter for natter: order-preserving keys, group commit, and one atomic
 * `db.batch()` per commit.
 * @packageDocumentation
 */
export type { LevelStorageOptions } from './options.js';
export { SCHEMA_VERSION } from './schema.js';
export { createLevelStorage } from './storage.js';
