import {
  ErrorCode,
  NatterError,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type StoreManifest,
  type WriteHint,
  type WriteTransaction,
} from '@natter/server-core';
import { SqliteAccountStore } from './accounts.js';
import { SqliteChatStore } from './chat.js';
import { type Connections, openConnections } from './connections.js';
import { resolveOptions, type SqliteStorageOptions } from './options.js';
import { SCHEMA_VERSION } from './schema/migrations.js';
import type { ReadStatements, WriteStatements } from './statements.js';
import { WriteQueue } from './write-queue.js';
import { SqliteWriteTransaction } from './write-transaction.js';

const unavailable = () => new NatterError(ErrorCode.UNAVAILABLE, 'sqlite storage is not open');

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
  let status: 'closed' | 'open' | 'closing' = 'closed';
  let connections: Connections | undefined;
  let queue: WriteQueue | undefined;
  let closing: Promise<void> | undefined;

  const current = (): Connections => {
    if (!connections) throw unavailable();
    return connections;
  };

  const enqueue = <T>(
    run: (c: Connections, markWritten: () => void) => Promise<T>,
    channelId?: string,
  ): Promise<T> => {
    if (status !== 'open' || !queue || !connections) return Promise.reject(unavailable());
    const c = connections;
    return queue.enqueue((markWritten) => run(c, markWritten), channelId);
  };

  const write = <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T> =>
    enqueue(async (c, markWritten) => {
      const tx = new SqliteWriteTransaction(c.writerReads, c.writes, c.append, markWritten);
      try {
        return await fn(tx);
      } finally {
        tx.end();
      }
    }, hint?.channelId);

  // Durable state only: a read waits for the fsync of the last commit (see WriteQueue.read).
  const read = <T>(fn: (reads: ReadStatements) => T): Promise<T> => {
    // Reads still work while close() waits for the last writes.
    if (!queue || !connections) return Promise.reject(unavailable());
    const c = connections;
    return queue.read(() => fn(c.reads));
  };

  const manifest: StoreManifest = {
    name: 'sqlite',
    contractVersion: STORAGE_CONTRACT_VERSION,
    schemaVersion: SCHEMA_VERSION,
    capabilities: { search: true, multiProcess: false, persistent: true },
  };

  return {
    manifest,
    accounts: new SqliteAccountStore({
      read,
      // Account writes are single statements that may write before they fail: always marked.
      write: <T>(fn: (writes: WriteStatements) => T) =>
        enqueue(async (c, markWritten) => {
          markWritten();
          return fn(c.writes);
        }),
    }),
    chat: new SqliteChatStore({
      read,
      epoch: () => current().epoch,
      write,
    }),
    async open() {
      if (closing) await closing;
      if (status === 'open') return;
      connections = openConnections(resolved);
      queue = new WriteQueue(connections.batch, resolved.maxBatchSize);
      status = 'open';
    },
    close() {
      if (status !== 'open') return closing ?? Promise.resolve();
      status = 'closing';
      closing = (async () => {
        try {
          await queue!.idle();
        } finally {
          await connections!.close();
          connections = undefined;
          queue = undefined;
          status = 'closed';
          closing = undefined;
        }
      })();
      return closing;
    },
  };
}
