/**
 * SQLite storage adapter for natter: better-sqlite3 in WAL mode, group commit, a separate read
 * connection, and versioned migrations.
 * @packageDocumentation
 */
export type { SqliteStorageOptions } from './options.js';
export { SCHEMA_VERSION } from './schema/migrations.js';
export { createSqliteStorage } from './storage.js';
