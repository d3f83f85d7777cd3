import { ErrorCode, NatterError } from '@natter/protocol';
import pg from 'pg';
import { type MediaRowFields, recordOf, rowOf } from './media-rows.js';
import type { ClaimResult, MediaRecord, MediaStore, QuotaReservation } from './media-store.js';

/** Version of the PostgreSQL media store's schema. */
export const POSTGRES_MEDIA_SCHEMA_VERSION = 2;

/** Options of {@link createPostgresMediaStore}. */
export interface PostgresMediaStoreOptions {
  /** A `postgres://` URL; or give `pool`. */
  connectionString?: string;
  /** An existing `pg` pool to use (the store does not end it on close). */
  pool?: pg.Pool;
  /** Schema holding the media tables, created when missing. @default 'natter_media' */
  schema?: string;
  /** Connections of the store's own pool. @default 4 */
  maxPoolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const COLUMNS =
  'id, owner_id, kind, mime, size, sha256, source_sha256, filename, meta, blob_key, created_at, channel_id, claim_token, claimed_at, seq';

/** The same tables as the SQLite store's, in PostgreSQL types. */
const V1 = (s: string) => `
CREATE TABLE ${s}.media (
  id text PRIMARY KEY,
  owner_id text NOT NULL,
  kind text NOT NULL,
  mime text NOT NULL,
  size bigint NOT NULL,
  sha256 text NOT NULL,
  source_sha256 text NOT NULL,
  filename text NOT NULL,
  meta text NOT NULL,
  blob_key text NOT NULL,
  created_at bigint NOT NULL,
  channel_id text,
  claim_token text,
  claimed_at bigint,
  seq bigint
);
CREATE INDEX media_by_owner ON ${s}.media (owner_id, source_sha256);
CREATE INDEX media_by_message ON ${s}.media (channel_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX media_by_token ON ${s}.media (claim_token) WHERE claim_token IS NOT NULL;
CREATE INDEX media_unattached ON ${s}.media (created_at) WHERE seq IS NULL;
CREATE TABLE ${s}.media_blobs (
  blob_key text NOT NULL,
  media_id text NOT NULL,
  PRIMARY KEY (blob_key, media_id)
);
CREATE INDEX media_blobs_by_media ON ${s}.media_blobs (media_id);
`;

/** Migration 2: quota held by uploads in progress (see `MediaStore.reserve`). */
const V2 = (s: string) => `
CREATE TABLE ${s}.media_reservations (
  id text PRIMARY KEY,
  owner_id text NOT NULL,
  bytes bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX media_reservations_by_owner ON ${s}.media_reservations (owner_id, expires_at);
`;

/**
 * The PostgreSQL {@link MediaStore}: one metadata store for every node of a cluster (with a shared blob
 * store such as S3). A claim locks the named rows (`FOR UPDATE`) in one transaction, so two nodes never
 * attach one upload to two messages. `import { createPostgresMediaStore } from '@natter/media/postgres'`
 * (needs `pg`).
 */
export function createPostgresMediaStore(options: PostgresMediaStoreOptions = {}): MediaStore {
  const schema = options.schema ?? 'natter_media';
  if (!SCHEMA_NAME.test(schema)) throw new RangeError('schema must be a lower-case SQL identifier');
  if (!options.pool && !options.connectionString)
    throw new TypeError('createPostgresMediaStore needs `connectionString` or `pool`');
  return new PostgresMediaStore(options, schema);
}

class PostgresMediaStore implements MediaStore {
  readonly name = 'postgres';
  private pool: pg.Pool | undefined;

  constructor(
    private readonly options: PostgresMediaStoreOptions,
    private readonly s: string,
  ) {}

  async open(): Promise<void> {
    if (this.pool) return;
    const pool =
      this.options.pool ??
      new pg.Pool({ connectionString: this.options.connectionString, max: this.options.maxPoolSize ?? 4 });
    if (!this.options.pool) pool.on('error', () => undefined);
    try {
      await this.transaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`natter_media:${this.s}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.s}.meta (key text PRIMARY KEY, value text NOT NULL)`,
        );
        const found = await client.query<{ value: string }>(
          `SELECT value FROM ${this.s}.meta WHERE key = 'version'`,
        );
        const version = found.rows[0] ? Number(found.rows[0].value) : 0;
        if (version > POSTGRES_MEDIA_SCHEMA_VERSION) {
          throw new NatterError(
            ErrorCode.STORE_VERSION_UNSUPPORTED,
            `media schema ${this.s} has version ${version}, newer than this @natter/media supports (${POSTGRES_MEDIA_SCHEMA_VERSION})`,
          );
        }
        if (version < 1) await client.query(V1(this.s));
        if (version < 2) await client.query(V2(this.s));
        if (version < POSTGRES_MEDIA_SCHEMA_VERSION) {
          await client.query(
            `INSERT INTO ${this.s}.meta (key, value) VALUES ('version', $1)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
            [String(POSTGRES_MEDIA_SCHEMA_VERSION)],
          );
        }
      });
    } catch (error) {
      if (!this.options.pool) await pool.end().catch(() => undefined);
      throw error;
    }
    this.pool = pool;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool && !this.options.pool) await pool.end();
  }

  private current(): pg.Pool {
    if (!this.pool) throw new NatterError(ErrorCode.UNAVAILABLE, 'media store is not open');
    return this.pool;
  }

  private async transaction<T>(pool: pg.Pool, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await run(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async insert(record: MediaRecord): Promise<void> {
    await this.transaction(this.current(), (client) => this.insertRow(client, record));
  }

  async insertWithinQuota(record: MediaRecord, quotaBytes: number, reservationId?: string): Promise<boolean> {
    return this.transaction(this.current(), async (client) => {
      await this.lockQuota(client, record.ownerId);
      if ((await this.storedBytes(client, record.ownerId)) + record.size > quotaBytes) return false;
      await this.insertRow(client, record);
      if (reservationId !== undefined)
        await client.query(`DELETE FROM ${this.s}.media_reservations WHERE id = $1`, [reservationId]);
      return true;
    });
  }

  async reserve(reservation: QuotaReservation, quotaBytes: number, now: number): Promise<boolean> {
    return this.transaction(this.current(), async (client) => {
      await this.lockQuota(client, reservation.ownerId);
      await client.query(
        `DELETE FROM ${this.s}.media_reservations WHERE owner_id = $1 AND expires_at <= $2`,
        [reservation.ownerId, now],
      );
      const { rows } = await client.query<{ held: string }>(
        `SELECT coalesce(sum(bytes), 0) AS held FROM ${this.s}.media_reservations WHERE owner_id = $1`,
        [reservation.ownerId],
      );
      const held = Number(rows[0]?.held ?? 0);
      if ((await this.storedBytes(client, reservation.ownerId)) + held + reservation.bytes > quotaBytes)
        return false;
      await client.query(
        `INSERT INTO ${this.s}.media_reservations (id, owner_id, bytes, expires_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes, expires_at = excluded.expires_at`,
        [reservation.id, reservation.ownerId, reservation.bytes, reservation.expiresAt],
      );
      return true;
    });
  }

  async release(reservationId: string): Promise<void> {
    await this.current().query(`DELETE FROM ${this.s}.media_reservations WHERE id = $1`, [reservationId]);
  }

  /**
   * Serialises one owner's quota decisions across every node until the transaction ends: under READ
   * COMMITTED two transactions could otherwise both read the same sum and both insert.
   */
  private async lockQuota(client: pg.PoolClient, ownerId: string): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `natter_media_quota:${this.s}:${ownerId}`,
    ]);
  }

  private async storedBytes(client: pg.PoolClient | pg.Pool, ownerId: string): Promise<number> {
    const { rows } = await client.query<{ n: string }>(
      `SELECT coalesce(sum(size), 0) AS n FROM ${this.s}.media WHERE owner_id = $1`,
      [ownerId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async insertRow(client: pg.PoolClient, record: MediaRecord): Promise<void> {
    const row = rowOf(record);
    const keys = [...new Set([record.blobKey, ...record.thumbnails.map((t) => t.blobKey)])];
    await client.query(
      `INSERT INTO ${this.s}.media (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        row.id,
        row.owner_id,
        row.kind,
        row.mime,
        row.size,
        row.sha256,
        row.source_sha256,
        row.filename,
        row.meta,
        row.blob_key,
        row.created_at,
        row.channel_id,
        row.claim_token,
        row.claimed_at,
        row.seq,
      ],
    );
    await client.query(
      `INSERT INTO ${this.s}.media_blobs (blob_key, media_id) SELECT k, $2 FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING`,
      [keys, record.id],
    );
  }

  async get(id: string): Promise<MediaRecord | undefined> {
    const { rows } = await this.current().query<MediaRowFields>(
      `SELECT ${COLUMNS} FROM ${this.s}.media WHERE id = $1`,
      [id],
    );
    return rows[0] && recordOf(rows[0]);
  }

  async findUnattached(ownerId: string, sourceSha256: string): Promise<MediaRecord | undefined> {
    const { rows } = await this.current().query<MediaRowFields>(
      `SELECT ${COLUMNS} FROM ${this.s}.media
        WHERE owner_id = $1 AND source_sha256 = $2 AND claim_token IS NULL ORDER BY created_at DESC LIMIT 1`,
      [ownerId, sourceSha256],
    );
    return rows[0] && recordOf(rows[0]);
  }

  async usage(ownerId: string): Promise<number> {
    return this.storedBytes(this.current(), ownerId);
  }

  async claim(
    ownerId: string,
    ids: readonly string[],
    channelId: string,
    token: string,
    now: number,
  ): Promise<ClaimResult> {
    return this.transaction(this.current(), async (client): Promise<ClaimResult> => {
      // Rows locked in id order: two claims naming the same uploads never deadlock.
      const { rows } = await client.query<MediaRowFields>(
        `SELECT ${COLUMNS} FROM ${this.s}.media WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
        [[...ids]],
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of ids) {
        const row = byId.get(id);
        if (!row || row.owner_id !== ownerId) return { kind: 'notFound', mediaId: id };
        if (row.claim_token !== null && row.claim_token !== token) return { kind: 'taken', mediaId: id };
      }
      const updated = await client.query<MediaRowFields>(
        `UPDATE ${this.s}.media SET channel_id = $2, claim_token = $3, claimed_at = $4
          WHERE id = ANY($1::text[]) AND claim_token IS NULL RETURNING ${COLUMNS}`,
        [[...ids], channelId, token, now],
      );
      for (const row of updated.rows) byId.set(row.id, row);
      return { kind: 'claimed', records: ids.map((id) => recordOf(byId.get(id)!)) };
    });
  }

  async commit(token: string, seq: number): Promise<void> {
    await this.current().query(`UPDATE ${this.s}.media SET seq = $2 WHERE claim_token = $1`, [token, seq]);
  }

  async cancel(token: string): Promise<void> {
    await this.current().query(
      `UPDATE ${this.s}.media SET channel_id = NULL, claim_token = NULL, claimed_at = NULL
        WHERE claim_token = $1 AND seq IS NULL`,
      [token],
    );
  }

  async releaseMessage(channelId: string, seq: number): Promise<MediaRecord[]> {
    return this.deleteWhere('channel_id = $1 AND seq = $2', [channelId, seq]);
  }

  async sweepUnattached(before: number, limit: number): Promise<MediaRecord[]> {
    return this.deleteWhere(
      `id IN (SELECT id FROM ${this.s}.media WHERE seq IS NULL AND coalesce(claimed_at, created_at) < $1
              ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [before, limit],
    );
  }

  private async deleteWhere(where: string, values: unknown[]): Promise<MediaRecord[]> {
    return this.transaction(this.current(), async (client) => {
      const { rows } = await client.query<MediaRowFields>(
        `DELETE FROM ${this.s}.media WHERE ${where} RETURNING ${COLUMNS}`,
        values,
      );
      if (rows.length > 0) {
        await client.query(`DELETE FROM ${this.s}.media_blobs WHERE media_id = ANY($1::text[])`, [
          rows.map((r) => r.id),
        ]);
      }
      return rows.map(recordOf);
    });
  }

  async referencedKeys(keys: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.current().query<{ blob_key: string }>(
      `SELECT DISTINCT blob_key FROM ${this.s}.media_blobs WHERE blob_key = ANY($1::text[])`,
      [[...keys]],
    );
    return new Set(rows.map((r) => r.blob_key));
  }
}
