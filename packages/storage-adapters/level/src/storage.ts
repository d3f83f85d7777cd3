import { mkdirSync } from 'node:fs';
import {
  ErrorCode,
  NatterError,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type StoreManifest,
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

const unavailable = () => new NatterError(ErrorCode.UNAVAILABLE, 'level storage is not open');

/** The resources of an open store. */
interface OpenStore {
  db: LevelDb;
  queue: WriteQueue;
  epoch: string;
}

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
  let status: 'closed' | 'open' | 'closing' = 'closed';
  let store: OpenStore | undefined;
  let opening: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const current = (): OpenStore => {
    if (!store) throw unavailable();
    return store;
  };

  const enqueue = <T>(run: (view: StagedView) => Promise<T>): Promise<T> => {
    if (status !== 'open' || !store) return Promise.reject(unavailable());
    return store.queue.enqueue(run);
  };

  const write = <T>(fn: (tx: WriteTransaction) => Promise<T>): Promise<T> =>
    enqueue(async (view) => {
      const tx = new LevelWriteTransaction(view);
      try {
        return await fn(tx);
      } finally {
        tx.end();
      }
    });

  const openStore = async (): Promise<void> => {
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
    try {
      const epoch = await migrate(db, resolved.sync);
      const queue = new WriteQueue(
        db,
        (operations) => db.batch(operations, { sync: resolved.sync }),
        resolved.maxBatchSize,
      );
      store = { db, queue, epoch };
      status = 'open';
    } catch (error) {
      await db.close();
      throw error;
    }
  };

  const manifest: StoreManifest = {
    name: 'level',
    contractVersion: STORAGE_CONTRACT_VERSION,
    schemaVersion: SCHEMA_VERSION,
    capabilities: { search: false, multiProcess: false, persistent: true },
  };

  return {
    manifest,
    accounts: new LevelAccountStore({ db: () => current().db, write: enqueue }),
    chat: new LevelChatStore({ db: () => current().db, epoch: () => current().epoch, write }),
    async open() {
      if (closing) await closing;
      if (status === 'open') return;
      opening ??= openStore().finally(() => {
        opening = undefined;
      });
      await opening;
    },
    close() {
      if (status !== 'open' || !store) return closing ?? Promise.resolve();
      status = 'closing';
      const { db, queue } = store;
      closing = (async () => {
        try {
          await queue.idle();
        } finally {
          // New reads fail with UNAVAILABLE from here; reopening waits until LevelDB released its lock.
          store = undefined;
          try {
            await db.close();
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
