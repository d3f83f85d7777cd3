/**
 * Sharded PostgreSQL storage for natter: channels (and their messages) by channel id and sync logs
 * by user id across several PostgreSQL servers, joined by an outbox and an exactly-once fan-out.
 * @packageDocumentation
 */
export { ShardMapError } from './errors.js';
export type { ShardedPostgresStorageOptions } from './options.js';
export { fnv1a32, ShardMap } from './shard-map.js';
export { createShardedPostgresStorage } from './storage.js';
