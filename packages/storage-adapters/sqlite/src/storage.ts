import {
  defineStorage,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type WriteHint,
  type WriteTransaction,
} from '@natter/server-core';
import { SqliteAccountStore } from './accounts.js';
import { SqliteChatStore } from './chat.js';
import { openConnections } from './connections.js';
import { resolveOptions, type SqliteStorageOptions } from './options.js';
import { SCHEMA_VERSION } from './schema/migrations.js';
import type { ReadStatements, WriteStatements } from './statements.js';
import { WriteQueue } from './write-queue.js';
import { SqliteWriteTransaction } from './write-transaction.js';

/**
 * Creates a SQLite {@link StorageAdapter} (better-sqlite3, WAL mode, group commit). Call `open()`
 * before use: it creates the file and its directory, migrates an older schema, and refuses a newer one.
 *
 * Writes queue up and a single writer loop commits them in batches (one transaction, one savepoint per
 * call); a call's promise settles only after its batch's COMMIT. Reads outside `write()` use a second,
 * read-only connection and never see a batch in progress. One process should own a store file.
 *
 * Do not call `write()` (or an account method that writes) from inside a `write()` function: the inner
 * call waits for the outer one's batch, which waits for the inner call.
 *
 * @example
 * ```ts
 * const storage = createSqliteStorage({ path: './data/natter.db' });
 * await storage.open();
 * ```
 */
export function createSqliteStorage(options: SqliteStorageOptions): StorageAdapter {
  const resolved = resolveOptions(options);
  return defineStorage({
    manifest: {
      name: 'sqlite',
      contractVersion: STORAGE_CONTRACT_VERSION,
      schemaVersion: SCHEMA_VERSION,
      capabilities: {
        search: true,
        multiProcess: false,
        persistent: true,
        lifecycle: true,
        moderation: true,
      },
    },
    async open() {
      const c = openConnections(resolved);
      const queue = new WriteQueue(c.batch, resolved.maxBatchSize, resolved.commitIntervalMs);

      const write = <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T> =>
        queue.enqueue(async (markWritten) => {
          const tx = new SqliteWriteTransaction(c.writerReads, c.writes, c.append, markWritten);
          try {
            return await fn(tx);
          } finally {
            tx.end();
          }
        }, hint?.channelId);
      // Durable state only: a read waits for the fsync of the last commit (see WriteQueue.read).
      const read = <T>(fn: (reads: ReadStatements) => T): Promise<T> => queue.read(() => fn(c.reads));

      return {
        accounts: new SqliteAccountStore({
          read,
          // Account writes are single statements that may write before they fail: always marked.
          write: <T>(fn: (writes: WriteStatements) => T) =>
            queue.enqueue(async (markWritten) => {
              markWritten();
              return fn(c.writes);
            }),
        }),
        chat: new SqliteChatStore({ read, epoch: () => c.epoch, write }),
        async close() {
          try {
            await queue.idle();
          } finally {
            await c.close();
          }
        },
      };
    },
  });
}
