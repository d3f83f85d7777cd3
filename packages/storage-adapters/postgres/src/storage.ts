import { randomBytes } from 'node:crypto';
import {
  defineStorage,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type WriteHint,
  type WriteTransaction,
} from '@natter/server-core';
import pg from 'pg';
import { PgAccountStore } from './accounts.js';
import { PgChatStore } from './chat.js';
import { type PostgresStorageOptions, resolveOptions } from './options.js';
import { migrate, SCHEMA_VERSION } from './schema/migrations.js';
import { beginWrite, statements } from './statements.js';
import { WriteLanes } from './write-lanes.js';
import { PgWriteQueue } from './write-queue.js';

/** OIDs of `bigint` and `bigint[]`: parsed to numbers (seqs, positions and times stay far below 2^53). */
const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
/** pg's parser of `bigint[]`, which yields strings. */
const parseInt8Array = (
  pg.types.getTypeParser as (oid: number, format: 'text') => (value: string) => unknown
)(INT8_ARRAY_OID, 'text') as (value: string) => Array<string | null>;

/** Type parsers of the adapter's own pool, leaving `pg`'s global parsers untouched. */
export const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return pg.types.getTypeParser(oid, format);
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === INT8_ARRAY_OID) {
      return (value: string) => parseInt8Array(value).map((n) => (n === null ? null : Number(n)));
    }
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/**
 * Creates a PostgreSQL {@link StorageAdapter} on a `pg` connection pool. Call `open()` before use: it
 * creates the schema when missing and migrates it (several processes may open at once: migrations
 * are serialised by an advisory lock), and refuses a schema newer than this code.
 *
 * Writes are group-committed: concurrent `write()` calls run in batches, each batch one transaction
 * (READ COMMITTED; the seq and the sync positions are allocated under row locks held until COMMIT),
 * with a savepoint per call only when a call fails after writing (write-queue.ts). Sends through
 * `appendChecked` run together in one statement. A write PostgreSQL aborts for a deadlock or a
 * serialization failure is run again, up to `maxAttempts` times, so `fn` must only work through its
 * transaction. `writeLanes` batches run at once, by channel (write-lanes.ts): writes hinted with the
 * same channel run in call order; a write without a hint waits for all earlier writes (and later ones
 * wait for it).
 *
 * Do not call `write()` from inside a `write()` function of the same channel (or without a hint): the
 * inner call waits for the outer one.
 *
 * @example
 * ```ts
 * const storage = createPostgresStorage({ connectionString: process.env.DATABASE_URL });
 * await storage.open();
 * ```
 */
export function createPostgresStorage(options: PostgresStorageOptions = {}): StorageAdapter {
  const resolved = resolveOptions(options);
  const sql = statements(resolved.schema);
  return defineStorage({
    manifest: {
      name: 'postgres',
      contractVersion: STORAGE_CONTRACT_VERSION,
      schemaVersion: SCHEMA_VERSION,
      capabilities: { search: true, multiProcess: true, persistent: true, lifecycle: true, moderation: true },
    },
    async open() {
      const pool = new pg.Pool({ ...resolved.poolConfig, types: pgTypes });
      // An idle connection that breaks (server restart) is dropped by the pool; without a listener the
      // 'error' event would crash the process. The next query opens a new connection.
      pool.on('error', () => undefined);
      let epoch: string;
      try {
        await migrate(pool, resolved.schema);
        await pool.query(sql.epochInit, [randomBytes(16).toString('hex')]);
        epoch = (await pool.query<{ value: string }>(sql.epoch)).rows[0]!.value;
      } catch (error) {
        await pool.end().catch(() => undefined);
        throw error;
      }
      const queueDeps = {
        pool: () => pool,
        sql,
        begins: beginWrite(resolved.schema, resolved.synchronousCommit),
        maxAttempts: resolved.maxAttempts,
        maxBatchSize: resolved.maxBatchSize,
      };
      const lanes = new WriteLanes(
        Array.from({ length: resolved.writeLanes }, () => new PgWriteQueue(queueDeps)),
      );
      const write = <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T> =>
        lanes.write(fn, hint?.channelId, hint?.appendOnly === true);
      return {
        accounts: new PgAccountStore({ pool: () => pool, sql }),
        chat: new PgChatStore({ pool: () => pool, sql, epoch: () => epoch, write }),
        async close() {
          try {
            await lanes.idle();
          } finally {
            await pool.end();
          }
        },
      };
    },
  });
}
