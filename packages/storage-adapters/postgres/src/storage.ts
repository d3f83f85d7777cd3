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
import { CallOrder } from './call-order.js';
import { PgChatStore } from './chat.js';
import { exhausted, isRetryable, NeedsExclusive } from './errors.js';
import { type PostgresStorageOptions, resolveOptions } from './options.js';
import { migrate, SCHEMA_VERSION } from './schema/migrations.js';
import { beginWrite, statements } from './statements.js';
import { PgWriteTransaction } from './write-transaction.js';

const unavailable = () => new NatterError(ErrorCode.UNAVAILABLE, 'postgres storage is not open');

/** OID of `bigint`: parsed to a number (seqs, positions and times stay far below 2^53). */
const INT8_OID = 20;

/** Type parsers of the adapter's own pool, leaving `pg`'s global parsers untouched. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A short, jittered pause before retrying a write PostgreSQL aborted (deadlock, serialization). */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(100, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Creates a PostgreSQL {@link StorageAdapter} on a `pg` connection pool. Call `open()` before use: it
 * creates the schema when missing and migrates it (several processes may open at once: migrations
 * are serialised by an advisory lock), and refuses a schema newer than this code.
 *
 * Each `write(fn)` is one transaction on a pooled connection (READ COMMITTED; the seq and the sync
 * positions are allocated under row locks held until COMMIT). A write PostgreSQL aborts for a
 * deadlock or serialization failure is run again, up to `maxAttempts` times, so `fn` must only
 * work through its transaction. Writes hinted with the same channel run in call order; a write
 * without a hint waits for all earlier writes (and later ones wait for it).
 *
 * Do not call `write()` from inside a `write()` function of the same channel (or without a hint):
 * the inner call waits for the outer one.
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
  const begin = beginWrite(resolved.schema, resolved.synchronousCommit);
  let status: 'closed' | 'open' | 'closing' = 'closed';
  let pool: pg.Pool | undefined;
  let epoch: string | undefined;
  let order = new CallOrder();
  let opening: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const currentPool = (): pg.Pool => {
    if (!pool) throw unavailable();
    return pool;
  };

  /**
   * One attempt: BEGIN, fn, COMMIT; ROLLBACK when anything fails. A connection whose ROLLBACK fails
   * is marked broken, so the pool discards it instead of handing it out again.
   */
  const attempt = async <T>(
    client: pg.PoolClient,
    connection: { broken?: Error },
    exclusive: boolean,
    fn: (tx: WriteTransaction) => Promise<T>,
  ): Promise<T> => {
    const tx = new PgWriteTransaction(client, sql, exclusive);
    try {
      await client.query(exclusive ? begin.exclusive : begin.shared);
      const value = await fn(tx);
      // The function may have swallowed an SQL error; PostgreSQL then turns COMMIT into ROLLBACK.
      if (tx.failure) throw tx.failure.error;
      tx.end();
      const committed = await client.query('COMMIT');
      if (committed.command !== 'COMMIT') throw new Error(`COMMIT answered ${committed.command}`);
      return value;
    } catch (error) {
      tx.end();
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        connection.broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    }
  };

  const runWrite = async <T>(fn: (tx: WriteTransaction) => Promise<T>): Promise<T> => {
    let exclusive = false;
    for (let n = 1; ; ) {
      const client = await currentPool().connect();
      const connection: { broken?: Error } = {};
      try {
        return await attempt(client, connection, exclusive, fn);
      } catch (error) {
        if (!isRetryable(error)) throw error;
        if (error instanceof NeedsExclusive && !exclusive) {
          // Not a failed attempt: the write only learned it must run alone (once).
          exclusive = true;
          continue;
        }
        if (n >= resolved.maxAttempts) throw exhausted(error);
      } finally {
        client.release(connection.broken);
      }
      await backoff(n++);
    }
  };

  const write = <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T> => {
    if (status !== 'open') return Promise.reject(unavailable());
    return order.run(hint?.channelId, () => runWrite(fn));
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
    order = new CallOrder();
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
          await order.idle();
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
