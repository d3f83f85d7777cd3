import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, NatterError } from '@natter/protocol';
import Database from 'better-sqlite3';
import { type MediaRowFields, recordOf, rowOf } from './media-rows.js';
import type { ClaimResult, MediaRecord, MediaStore, QuotaReservation } from './media-store.js';

/** Version of the media store's schema (`PRAGMA user_version`). */
export const MEDIA_SCHEMA_VERSION = 2;

const SCHEMA = `
-- One row per upload. channel_id/claim_token set: claimed by a send; seq set too: attached to it.
CREATE TABLE media (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  mime TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  source_sha256 TEXT NOT NULL,
  filename TEXT NOT NULL,
  meta TEXT NOT NULL,
  blob_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  channel_id TEXT,
  claim_token TEXT,
  claimed_at INTEGER,
  seq INTEGER
) WITHOUT ROWID;
CREATE INDEX media_by_owner ON media (owner_id, source_sha256);
CREATE INDEX media_by_message ON media (channel_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX media_by_token ON media (claim_token) WHERE claim_token IS NOT NULL;
CREATE INDEX media_unattached ON media (created_at) WHERE seq IS NULL;
-- Every blob key a record references (file and thumbnails), for reference counting.
CREATE TABLE media_blobs (
  blob_key TEXT NOT NULL,
  media_id TEXT NOT NULL,
  PRIMARY KEY (blob_key, media_id)
) WITHOUT ROWID;
CREATE INDEX media_blobs_by_media ON media_blobs (media_id);
`;

/** Migration 2: quota held by uploads in progress (see `MediaStore.reserve`). */
const SCHEMA_2 = `
CREATE TABLE media_reservations (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX media_reservations_by_owner ON media_reservations (owner_id, expires_at);
`;

/** Options of {@link createSqliteMediaStore}. */
export interface SqliteMediaStoreOptions {
  /** SQLite file, created with its directory (e.g. `NATTER_DATA_DIR/media.sqlite`). One process owns it. */
  path: string;
}

/**
 * The SQLite {@link MediaStore} (WAL, `synchronous = NORMAL`): the default for one node. Every method is one
 * synchronous better-sqlite3 transaction, so a claim is all or none.
 */
export function createSqliteMediaStore(options: SqliteMediaStoreOptions): MediaStore {
  return new SqliteMediaStore(options.path);
}

class SqliteMediaStore implements MediaStore {
  readonly name = 'sqlite';
  private db: Database.Database | undefined;

  constructor(private readonly path: string) {}

  private get conn(): Database.Database {
    if (!this.db) throw new NatterError(ErrorCode.UNAVAILABLE, 'media store is not open');
    return this.db;
  }

  async open(): Promise<void> {
    if (this.db) return;
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path);
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > MEDIA_SCHEMA_VERSION) {
        throw new NatterError(
          ErrorCode.STORE_VERSION_UNSUPPORTED,
          `media store schema ${version} is newer than this @natter/media supports (${MEDIA_SCHEMA_VERSION})`,
        );
      }
      if (version < MEDIA_SCHEMA_VERSION) {
        db.transaction(() => {
          if (version < 1) db.exec(SCHEMA);
          if (version < 2) db.exec(SCHEMA_2);
          db.pragma(`user_version = ${MEDIA_SCHEMA_VERSION}`);
        }).immediate();
      }
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  async insert(record: MediaRecord): Promise<void> {
    const db = this.conn;
    db.transaction(() => this.insertRow(record))();
  }

  async insertWithinQuota(record: MediaRecord, quotaBytes: number, reservationId?: string): Promise<boolean> {
    const db = this.conn;
    // IMMEDIATE: the write lock is taken before the sum is read, so no other writer can slip in between.
    return db
      .transaction((): boolean => {
        if (this.storedBytes(record.ownerId) + record.size > quotaBytes) return false;
        this.insertRow(record);
        if (reservationId !== undefined)
          db.prepare('DELETE FROM media_reservations WHERE id = ?').run(reservationId);
        return true;
      })
      .immediate();
  }

  async reserve(reservation: QuotaReservation, quotaBytes: number, now: number): Promise<boolean> {
    const db = this.conn;
    return db
      .transaction((): boolean => {
        db.prepare('DELETE FROM media_reservations WHERE owner_id = ? AND expires_at <= ?').run(
          reservation.ownerId,
          now,
        );
        const { held } = db
          .prepare('SELECT coalesce(sum(bytes), 0) AS held FROM media_reservations WHERE owner_id = ?')
          .get(reservation.ownerId) as { held: number };
        if (this.storedBytes(reservation.ownerId) + held + reservation.bytes > quotaBytes) return false;
        db.prepare(
          'INSERT OR REPLACE INTO media_reservations (id, owner_id, bytes, expires_at) VALUES (?, ?, ?, ?)',
        ).run(reservation.id, reservation.ownerId, reservation.bytes, reservation.expiresAt);
        return true;
      })
      .immediate();
  }

  async release(reservationId: string): Promise<void> {
    this.conn.prepare('DELETE FROM media_reservations WHERE id = ?').run(reservationId);
  }

  private storedBytes(ownerId: string): number {
    const row = this.conn
      .prepare('SELECT coalesce(sum(size), 0) AS n FROM media WHERE owner_id = ?')
      .get(ownerId) as { n: number };
    return row.n;
  }

  private insertRow(record: MediaRecord): void {
    const db = this.conn;
    db.prepare(
      `INSERT INTO media (id, owner_id, kind, mime, size, sha256, source_sha256, filename, meta, blob_key,
         created_at, channel_id, claim_token, claimed_at, seq)
       VALUES (@id, @owner_id, @kind, @mime, @size, @sha256, @source_sha256, @filename, @meta, @blob_key,
         @created_at, @channel_id, @claim_token, @claimed_at, @seq)`,
    ).run(rowOf(record));
    const link = db.prepare('INSERT OR IGNORE INTO media_blobs (blob_key, media_id) VALUES (?, ?)');
    for (const key of new Set([record.blobKey, ...record.thumbnails.map((t) => t.blobKey)])) {
      link.run(key, record.id);
    }
  }

  async get(id: string): Promise<MediaRecord | undefined> {
    const row = this.conn.prepare('SELECT * FROM media WHERE id = ?').get(id) as MediaRowFields | undefined;
    return row && recordOf(row);
  }

  async findUnattached(ownerId: string, sourceSha256: string): Promise<MediaRecord | undefined> {
    const row = this.conn
      .prepare(
        `SELECT * FROM media WHERE owner_id = ? AND source_sha256 = ? AND claim_token IS NULL
         ORDER BY created_at DESC LIMIT 1`,
      )
      .get(ownerId, sourceSha256) as MediaRowFields | undefined;
    return row && recordOf(row);
  }

  async usage(ownerId: string): Promise<number> {
    return this.storedBytes(ownerId);
  }

  async claim(
    ownerId: string,
    ids: readonly string[],
    channelId: string,
    token: string,
    now: number,
  ): Promise<ClaimResult> {
    const db = this.conn;
    return db.transaction((): ClaimResult => {
      const records: MediaRecord[] = [];
      const read = db.prepare('SELECT * FROM media WHERE id = ?');
      for (const id of ids) {
        const row = read.get(id) as MediaRowFields | undefined;
        if (!row || row.owner_id !== ownerId) return { kind: 'notFound', mediaId: id };
        if (row.claim_token !== null && row.claim_token !== token) return { kind: 'taken', mediaId: id };
        records.push(recordOf(row));
      }
      const set = db.prepare(
        `UPDATE media SET channel_id = ?, claim_token = ?, claimed_at = ? WHERE id = ? AND claim_token IS NULL`,
      );
      for (const id of ids) set.run(channelId, token, now, id);
      return { kind: 'claimed', records: ids.map((id) => recordOf(read.get(id) as MediaRowFields)) };
    })();
  }

  async commit(token: string, seq: number): Promise<void> {
    this.conn.prepare('UPDATE media SET seq = ? WHERE claim_token = ?').run(seq, token);
  }

  async cancel(token: string): Promise<void> {
    this.conn
      .prepare(
        'UPDATE media SET channel_id = NULL, claim_token = NULL, claimed_at = NULL WHERE claim_token = ? AND seq IS NULL',
      )
      .run(token);
  }

  async releaseMessage(channelId: string, seq: number): Promise<MediaRecord[]> {
    const db = this.conn;
    return db.transaction(() => {
      const rows = db
        .prepare('SELECT * FROM media WHERE channel_id = ? AND seq = ?')
        .all(channelId, seq) as MediaRowFields[];
      this.deleteRows(rows);
      return rows.map(recordOf);
    })();
  }

  async sweepUnattached(before: number, limit: number): Promise<MediaRecord[]> {
    const db = this.conn;
    return db.transaction(() => {
      const rows = db
        .prepare(
          `SELECT * FROM media WHERE seq IS NULL AND coalesce(claimed_at, created_at) < ?
           ORDER BY created_at LIMIT ?`,
        )
        .all(before, limit) as MediaRowFields[];
      this.deleteRows(rows);
      return rows.map(recordOf);
    })();
  }

  async referencedKeys(keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const read = this.conn.prepare('SELECT 1 FROM media_blobs WHERE blob_key = ? LIMIT 1');
    for (const key of keys) if (read.get(key)) found.add(key);
    return found;
  }

  private deleteRows(rows: readonly MediaRowFields[]): void {
    const db = this.conn;
    const media = db.prepare('DELETE FROM media WHERE id = ?');
    const links = db.prepare('DELETE FROM media_blobs WHERE media_id = ?');
    for (const row of rows) {
      media.run(row.id);
      links.run(row.id);
    }
  }
}
