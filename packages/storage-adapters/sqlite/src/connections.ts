import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, NatterError } from '@natter/server-core';
import Database from 'better-sqlite3';
import { type AppendOperation, prepareAppend } from './append.js';
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
    writer.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(writer);

    reader = new Database(options.path, { readonly: true, fileMustExist: true });
    reader.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    const writes = prepareWrites(writer);
    const reads = prepareReads(reader);
    return {
      writer,
      reader,
      writerReads: prepareReads(writer),
      writes,
      append: prepareAppend(writer, writes),
      reads,
      batch: batchConnection(writer),
      epoch: reads.epoch.get()!.value,
    };
  } catch (error) {
    reader?.close();
    writer.close();
    throw error;
  }
}

function batchConnection(db: Database.Database): BatchConnection {
  const statement = (sql: string) => {
    const prepared = db.prepare(sql);
    return () => void prepared.run();
  };
  const rollbackTo = statement('ROLLBACK TO w');
  const release = statement('RELEASE w');
  return {
    begin: statement('BEGIN IMMEDIATE'),
    savepoint: statement('SAVEPOINT w'),
    release,
    rollbackToSavepoint: () => {
      rollbackTo();
      release();
    },
    commit: statement('COMMIT'),
    rollbackAll: () => {
      if (db.inTransaction) db.exec('ROLLBACK');
    },
  };
}
