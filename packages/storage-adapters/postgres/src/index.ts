/**
 * PostgreSQL storage adapter for natter: one transaction per write with row-locked sequence
 * allocation, advisory-locked migrations, full-text search, several processes per store.
 * @packageDocumentation
 */
export type { PostgresStorageOptions, SynchronousCommit } from './options.js';
export { SCHEMA_VERSION } from './schema/migrations.js';
export { createPostgresStorage } from './storage.js';
