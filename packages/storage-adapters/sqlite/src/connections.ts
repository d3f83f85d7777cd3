import { closeSync, fsync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, NatterError } from '@natter/server-core';
import Database from 'better-sqlite3';
import { type AppendOperation, prepareAppend } from './append.js';
import { type Checkpointer, startCheckpointer } from './checkpointer.js';
import type { ResolvedSqliteOptions } from './options.js';
import { migrate, SCHEMA_VERSION, schemaVersionOf } from './schema/migrations.js';
import { prepareReads, prepareWrites, type ReadStatements, type WriteStatements } from './statements.js';
import type { BatchConnection } from './write-queue.js';

/** The two connections of an open store and their prepared statements. */
export interface Connections {
  /** The only connection that writes; only the writer loop uses it. */
  writer: Database.Database;
  /** Read-only connection for reads outside `write()`. */
  reader: Database.Database;
  /** Reads on the write connection, for reads inside `write()`. */
  writerReads: ReadStatements;
  writes: WriteStatements;
  append: AppendOperation;
  /** Reads on the read-only connection. */
  reads: ReadStatements;
  /** Transaction control of the write connection, for the group-commit queue. */
  batch: BatchConnection;
  epoch: string;
  /** Closes the checkpoint worker, the WAL handle and both connections. */
  close(): Promise<void>;
}

/**
 * Opens (creating and migrating when needed) the store at `options.path`.
 * @throws NatterError STORE_VERSION_UNSUPPORTED when the file's schema is newer than this code.
 */
export function openConnections(options: ResolvedSqliteOptions): Connections {
  mkdirSync(dirname(options.path), { recursive: true });
  const writer = new Database(options.path);
  let reader: Database.Database | undefined;
  try {
    writer.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    // Refuse a newer store before changing anything in it (even its journal mode).
    const version = schemaVersionOf(writer);
    if (version > SCHEMA_VERSION) {
      throw new NatterError(
        ErrorCode.STORE_VERSION_UNSUPPORTED,
        `store schema version ${version} is newer than this @natter/storage-sqlite supports (${SCHEMA_VERSION})`,
      );
    }
    const mode = writer.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`could not switch ${options.path} to WAL mode (got ${String(mode)})`);
    // COMMIT only writes the WAL (no fsync on the event loop); with `synchronous: 'full'` the write queue
    // fsyncs the WAL on the thread pool before it acknowledges anything (see walFlusher). Both settings
    // survive a process crash; only 'full' survives a power loss.
    writer.pragma('synchronous = NORMAL');
    // Checkpoints run on a worker thread (see checkpointer.ts), not inside a COMMIT on this thread.
    writer.pragma('wal_autocheckpoint = 0');
    // A WAL that grew under a burst is cut back once a checkpoint has emptied it.
    writer.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    writer.pragma(`cache_size = -${32 * 1024}`);
    // Every call of a batch runs in a savepoint; SQLite journals the pages a savepoint may have to undo
    // in a sub-journal that spills to a temp file past 64 KiB, i.e. within a few calls of a batch. In
    // memory it costs no system calls (measured: a third of the time of an append).
    writer.pragma('temp_store = MEMORY');
    // A deleted message's bytes are zeroed in the pages it leaves, not kept in free space (issue 24).
    writer.pragma('secure_delete = ON');
    migrate(writer);

    reader = new Database(options.path, { readonly: true, fileMustExist: true });
    reader.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    reader.pragma(`cache_size = -${32 * 1024}`);
    const writes = prepareWrites(writer);
    const reads = prepareReads(reader);
    const wal = options.synchronous === 'full' ? walFlusher(options.path) : undefined;
    // Without the worker (it failed, or could not start: e.g. a bundle where better-sqlite3 cannot be
    // resolved), SQLite's own auto-checkpoint keeps the WAL bounded, on this thread.
    const autoCheckpoint = () => {
      if (writer.open) writer.pragma('wal_autocheckpoint = 1000');
    };
    let checkpointer: Checkpointer;
    try {
      checkpointer = startCheckpointer({
        path: options.path,
        intervalMs: options.checkpointIntervalMs,
        busyTimeoutMs: options.busyTimeoutMs,
        onError: autoCheckpoint,
      });
    } catch {
      autoCheckpoint();
      checkpointer = { close: async () => undefined };
    }
    const opened = reader;
    const batch = batchConnection(writer, wal?.flush);
    const append = prepareAppend(writes, batch.poison);
    batch.onRollback(append.forgetNumbers);
    return {
      writer,
      reader,
      writerReads: prepareReads(writer),
      writes,
      append,
      reads,
      batch,
      epoch: reads.epoch.get()!.value,
      async close() {
        await checkpointer.close();
        wal?.close();
        opened.close();
        writer.close();
      },
    };
  } catch (error) {
    reader?.close();
    writer.close();
    throw error;
  }
}

/** The write connection's transaction control, plus what the append needs from it. */
interface WriterBatchConnection extends BatchConnection {
  /** Marks the open transaction as holding a half-done change: its COMMIT throws `error` instead. */
  poison(error: unknown): void;
  /** Registers a callback run on every rollback (caches of what was written must go with it). */
  onRollback(callback: () => void): void;
}

/**
 * Transaction control of the write connection. A poisoned transaction never commits: rolling back
 * the savepoint of the call that poisoned it (before that call released it), or the whole
 * transaction, clears the poison.
 */
function batchConnection(db: Database.Database, flush?: () => Promise<void>): WriterBatchConnection {
  const statement = (sql: string) => {
    const prepared = db.prepare(sql);
    return () => void prepared.run();
  };
  const rollbackTo = statement('ROLLBACK TO w');
  const release = statement('RELEASE w');
  const commit = statement('COMMIT');
  const rollbackCallbacks: Array<() => void> = [];
  // `sticky` once the call that poisoned the transaction released its savepoint: then only a rollback
  // of the whole transaction removes the half-done change.
  let poisoned: { error: unknown; sticky: boolean } | undefined;
  const forget = () => {
    for (const callback of rollbackCallbacks) callback();
  };
  return {
    begin: statement('BEGIN IMMEDIATE'),
    savepoint: statement('SAVEPOINT w'),
    release: () => {
      if (poisoned) poisoned.sticky = true;
      release();
    },
    rollbackToSavepoint: () => {
      forget();
      if (poisoned && !poisoned.sticky) poisoned = undefined;
      rollbackTo();
      release();
    },
    commit: () => {
      if (poisoned) throw poisoned.error;
      commit();
    },
    rollbackAll: () => {
      forget();
      poisoned = undefined;
      if (db.inTransaction) db.exec('ROLLBACK');
    },
    poison: (error) => {
      poisoned ??= { error, sticky: false };
    },
    onRollback: (callback) => void rollbackCallbacks.push(callback),
    ...(flush ? { flush } : {}),
  };
}

/** fsync of a directory, so a file created in it survives a power loss. Not possible on Windows. */
function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * fsync of the WAL file on libuv's thread pool. After it, every frame SQLite wrote before the call,
 * commit records included, is on disk: what `synchronous = FULL` gives, without the event loop waiting.
 * The file is opened at the first flush (SQLite creates it at the first write) and its directory
 * synced once, so the WAL's directory entry survives a power loss too.
 */
function walFlusher(path: string): { flush: () => Promise<void>; close: () => void } {
  let fd: number | undefined;
  return {
    flush: () =>
      new Promise<void>((resolve, reject) => {
        if (fd === undefined) {
          try {
            // 'r+': Windows flushes a file only through a handle opened for writing (we never write to it).
            fd = openSync(`${path}-wal`, 'r+');
            syncDirectory(dirname(path));
          } catch (error) {
            reject(error);
            return;
          }
        }
        fsync(fd, (error) => (error ? reject(error) : resolve()));
      }),
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
