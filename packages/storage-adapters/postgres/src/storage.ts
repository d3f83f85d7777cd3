import { randomBytes } from 'node:crypto';
import {
  ErrorCode,
  NatterError,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type StoreManifest,
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

const unavailable = () => new NatterError(ErrorCode.UNAVAILABLE, 'postgres storage is not open');

/** OIDs of `bigint` and `bigint[]`: parsed to numbers (seqs, positions and times stay far below 2^53). */
const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
/** pg's parser of `bigint[]`, which yields strings. */
const parseInt8Array = (
  pg.types.getTypeParser as (oid: number, format: 'text') => (value: string) => unknown
)(INT8_ARRAY_OID, 'text') as (value: string) => Array<string | null>;

/** Type parsers of the adapter's own pool, leaving `pg`'s global parsers untouched. */
const types = {
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
  let status: 'closed' | 'open' | 'closing' = 'closed';
  let pool: pg.Pool | undefined;
  let epoch: string | undefined;
  let opening: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const currentPool = (): pg.Pool => {
    if (!pool) throw unavailable();
    return pool;
  };
  const queueDeps = {
    pool: currentPool,
    sql,
    begins: beginWrite(resolved.schema, resolved.synchronousCommit),
    maxAttempts: resolved.maxAttempts,
    maxBatchSize: resolved.maxBatchSize,
  };
  const lanes = new WriteLanes(
    Array.from({ length: resolved.writeLanes }, () => new PgWriteQueue(queueDeps)),
  );

  const write = <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T> => {
    if (status !== 'open') return Promise.reject(unavailable());
    return lanes.write(fn, hint?.channelId);
  };

  const openStore = async (): Promise<void> => {
    const next = new pg.Pool({ ...resolved.poolConfig, types });
    // An idle connection that breaks (server restart) is dropped by the pool; without a listener the
    // 'error' event would crash the process. The next query opens a new connection.
    next.on('error', () => undefined);
    try {
      await migrate(next, resolved.schema);
      await next.query(sql.epochInit, [randomBytes(16).toString('hex')]);
      epoch = (await next.query<{ value: string }>(sql.epoch)).rows[0]!.value;
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    pool = next;
    status = 'open';
  };

  const manifest: StoreManifest = {
    name: 'postgres',
    contractVersion: STORAGE_CONTRACT_VERSION,
    schemaVersion: SCHEMA_VERSION,
    capabilities: { search: true, multiProcess: true, persistent: true },
  };

  return {
    manifest,
    accounts: new PgAccountStore({ pool: currentPool, sql }),
    chat: new PgChatStore({
      pool: currentPool,
      sql,
      epoch: () => {
        if (epoch === undefined || !pool) throw unavailable();
        return epoch;
      },
      write,
    }),
    async open() {
      if (closing) await closing;
      if (status === 'open') return;
      opening ??= openStore().finally(() => {
        opening = undefined;
      });
      await opening;
    },
    close() {
      if (status !== 'open' || !pool) return closing ?? Promise.resolve();
      status = 'closing';
      const closingPool = pool;
      closing = (async () => {
        try {
          await lanes.idle();
        } finally {
          pool = undefined;
          try {
            await closingPool.end();
          } finally {
            status = 'closed';
            closing = undefined;
          }
        }
      })();
      return closing;
    },
  };
}
