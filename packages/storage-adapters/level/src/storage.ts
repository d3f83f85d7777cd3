import { mkdirSync } from 'node:fs';
import {
  defineStorage,
  ErrorCode,
  NatterError,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type WriteTransaction,
} from '@natter/server-core';
import { Level } from 'level';
import { LevelAccountStore } from './accounts.js';
import { LevelChatStore } from './chat.js';
import { type LevelStorageOptions, resolveOptions } from './options.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import type { LevelDb, StagedView } from './staging.js';
import { WriteQueue } from './write-queue.js';
import { LevelWriteTransaction } from './write-transaction.js';

/**
 * Creates a LevelDB {@link StorageAdapter} (the `level` package). Call `open()` before use: it creates
 * the directory, migrates an older layout, and refuses a newer one. LevelDB locks the directory, so
 * one process owns a store.
 *
 * Writes queue up and a single writer loop commits them in batches: each call runs against the
 * committed data plus the staged changes of the calls before it, and the changes of every call that
 * succeeded are written in one atomic `db.batch()`. A call's promise settles only after that write.
 *
 * Do not call `write()` (or an account method that writes) from inside a `write()` function: the
 * inner call waits for the outer one's batch, which waits for the inner call.
 *
 * @example
 * ```ts
 * const storage = createLevelStorage({ path: './data/natter-level' });
 * await storage.open();
 * ```
 */
export function createLevelStorage(options: LevelStorageOptions): StorageAdapter {
  const resolved = resolveOptions(options);

  const openDb = async (): Promise<LevelDb> => {
    mkdirSync(resolved.path, { recursive: true });
    const db: LevelDb = new Level<string, unknown>(resolved.path, {
      keyEncoding: 'utf8',
      valueEncoding: 'json',
    });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new NatterError(
          ErrorCode.UNAVAILABLE,
          `the store at ${resolved.path} is open in another process (LevelDB locks its directory)`,
        );
      }
      throw error;
    }
    return db;
  };

  return defineStorage({
    manifest: {
      name: 'level',
      contractVersion: STORAGE_CONTRACT_VERSION,
      schemaVersion: SCHEMA_VERSION,
      capabilities: {
        search: false,
        multiProcess: false,
        persistent: true,
        lifecycle: true,
        moderation: true,
      },
    },
    async open() {
      const db = await openDb();
      let epoch: string;
      try {
        epoch = await migrate(db, resolved.sync);
      } catch (error) {
        await db.close();
        throw error;
      }
      const queue = new WriteQueue(
        db,
        (operations) => db.batch(operations, { sync: resolved.sync }),
        resolved.maxBatchSize,
      );
      const enqueue = <T>(run: (view: StagedView) => Promise<T>): Promise<T> => queue.enqueue(run);
      const write = <T>(fn: (tx: WriteTransaction) => Promise<T>): Promise<T> =>
        enqueue(async (view) => {
          const tx = new LevelWriteTransaction(view);
          try {
            return await fn(tx);
          } finally {
            tx.end();
          }
        });
      return {
        accounts: new LevelAccountStore({ db: () => db, write: enqueue }),
        chat: new LevelChatStore({ db: () => db, epoch: () => epoch, write }),
        async close() {
          try {
            await queue.idle();
          } finally {
            // Reopening waits until LevelDB released its lock.
            await db.close();
          }
        },
      };
    },
  });
}
