/**
 * Pieces of the PostgreSQL adapter that `@natter/storage-postgres-sharded` builds on (row mapping, column
 * lists, type parsers, migrations), so the sharded store reads the same tables the same way. Not a
 * stable public API: it changes with the adapter's schema.
 * @packageDocumentation
 */
export { isRetryable } from './errors.js';
export {
  type ChannelMemberRow,
  type MessageRow,
  toChannelWithMember,
  toMessage,
  toSyncEntry,
} from './rows.js';
export { migrate, quoteIdentifier, SCHEMA_VERSION } from './schema/migrations.js';
export { CHANNEL_COLUMNS, MESSAGE_COLUMNS } from './statements.js';
export { pgTypes } from './storage.js';
