import { ErrorCode, NatterError, type NatterEvent } from '@natter/protocol';
import type { EventPage } from '@natter/server-core';
import pg from 'pg';
import type { DeliveryOutcome, EventDelivery, EventStore } from './event-store.js';

/** Version of the PostgreSQL event store's schema. */
export const POSTGRES_EVENT_SCHEMA_VERSION = 1;

/** Options of {@link createPostgresEventStore}. */
export interface PostgresEventStoreOptions {
  /** A `postgres://` URL; or give `pool`. */
  connectionString?: string;
  /** An existing `pg` pool to use (the store does not end it on close). */
  pool?: pg.Pool;
  /** Schema holding the event tables, created when missing. @default 'natter_events' */
  schema?: string;
  /** Connections of the store's own pool. @default 4 */
  maxPoolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The same tables as the SQLite store's, in PostgreSQL types. */
const V1 = (s: string) => `
CREATE TABLE ${s}.events (
  id text PRIMARY KEY,
  type text NOT NULL,
  created_at bigint NOT NULL,
  body jsonb NOT NULL
);
CREATE INDEX events_by_time ON ${s}.events (created_at);
CREATE TABLE ${s}.deliveries (
  endpoint text NOT NULL,
  event_id text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  due_at bigint NOT NULL,
  claimed_until bigint NOT NULL DEFAULT 0,
  outcome text,
  settled_at bigint,
  PRIMARY KEY (endpoint, event_id)
);
CREATE INDEX deliveries_owed ON ${s}.deliveries (endpoint, due_at) WHERE outcome IS NULL;
CREATE INDEX deliveries_settled ON ${s}.deliveries (settled_at) WHERE outcome IS NOT NULL;
`;

interface DueRow {
  event_id: string;
  attempts: number;
  created_at: string | number;
  body: NatterEvent;
}

/**
 * The PostgreSQL {@link EventStore}: one event log and delivery queue shared by every chat node of a
 * cluster, so each node's commits are recorded once and each delivery is sent by one node at a time. Due
 * deliveries are claimed with `FOR UPDATE SKIP LOCKED` and a lease (`claimed_until`); a node that dies holding
 * claims loses nothing, as its claims come back when the lease ends. Every method is one statement or one
 * transaction. `import { createPostgresEventStore } from '@natter/webhooks/postgres'` (needs `pg`).
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions = {}): EventStore {
  const schema = options.schema ?? 'natter_events';
  if (!SCHEMA_NAME.test(schema)) throw new RangeError('schema must be a lower-case SQL identifier');
  if (!options.pool && !options.connectionString)
    throw new TypeError('createPostgresEventStore needs `connectionString` or `pool`');
  return new PostgresEventStore(options, schema);
}

class PostgresEventStore implements EventStore {
  readonly name = 'postgres';
  private pool: pg.Pool | undefined;

  constructor(
    private readonly options: PostgresEventStoreOptions,
    private readonly s: string,
  ) {}

  async open(): Promise<void> {
    if (this.pool) return;
    // Its own pool fails a call within bounded time when PostgreSQL hangs: `publish` keeps each append in
    // memory until it settles, so an append must never wait forever.
    const pool =
      this.options.pool ??
      new pg.Pool({
        connectionString: this.options.connectionString,
        max: this.options.maxPoolSize ?? 4,
        connectionTimeoutMillis: 10_000,
        query_timeout: 30_000,
      });
    if (!this.options.pool) pool.on('error', () => undefined);
    try {
      await this.migrate(pool);
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

  /** Creates or upgrades the schema; nodes starting at once are serialised by an advisory lock. */
  private async migrate(pool: pg.Pool): Promise<void> {
    await this.transaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`natter_events:${this.s}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.s}.meta (key text PRIMARY KEY, value text NOT NULL)`,
      );
      const found = await client.query<{ value: string }>(
        `SELECT value FROM ${this.s}.meta WHERE key = 'version'`,
      );
      const version = found.rows[0] ? Number(found.rows[0].value) : 0;
      if (version > POSTGRES_EVENT_SCHEMA_VERSION) {
        throw new NatterError(
          ErrorCode.STORE_VERSION_UNSUPPORTED,
          `event schema ${this.s} has version ${version}, newer than this @natter/webhooks supports (${POSTGRES_EVENT_SCHEMA_VERSION})`,
        );
      }
      if (version < 1) {
        await client.query(V1(this.s));
        await client.query(`INSERT INTO ${this.s}.meta (key, value) VALUES ('version', '1')`);
      }
    });
  }

  private current(): pg.Pool {
    if (!this.pool) throw new NatterError(ErrorCode.UNAVAILABLE, 'event store is not open');
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

  async append(
    events: readonly NatterEvent[],
    endpointsOf: (event: NatterEvent) => readonly string[],
    now: number,
  ): Promise<void> {
    if (events.length === 0) return;
    const deliveries = events.flatMap((event) => endpointsOf(event).map((endpoint) => [endpoint, event.id]));
    // Two array-unnest statements in one transaction, whatever the batch size: one round trip each.
    await this.transaction(this.current(), async (client) => {
      await client.query(
        `INSERT INTO ${this.s}.events (id, type, created_at, body)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])
         ON CONFLICT (id) DO NOTHING`,
        [
          events.map((e) => e.id),
          events.map((e) => e.type),
          events.map((e) => e.createdAt),
          events.map((e) => JSON.stringify(e)),
        ],
      );
      if (deliveries.length === 0) return;
      await client.query(
        `INSERT INTO ${this.s}.deliveries (endpoint, event_id, created_at, due_at)
           SELECT endpoint, event_id, $3, $3 FROM unnest($1::text[], $2::text[]) AS d(endpoint, event_id)
         ON CONFLICT (endpoint, event_id) DO NOTHING`,
        [deliveries.map((d) => d[0]), deliveries.map((d) => d[1]), now],
      );
    });
  }

  async list(after: string | undefined, limit: number): Promise<EventPage> {
    const { rows } = await this.current().query<{ body: NatterEvent }>(
      `SELECT body FROM ${this.s}.events WHERE id > $1 ORDER BY id COLLATE "C" LIMIT $2`,
      [after ?? '', limit + 1],
    );
    return { events: rows.slice(0, limit).map((row) => row.body), hasMore: rows.length > limit };
  }

  async claimDue(endpoint: string, now: number, limit: number, leaseMs: number): Promise<EventDelivery[]> {
    // SKIP LOCKED: nodes claiming at once each get different rows instead of waiting on each other.
    const { rows } = await this.current().query<DueRow>(
      `WITH due AS (
         SELECT endpoint, event_id FROM ${this.s}.deliveries
          WHERE endpoint = $1 AND outcome IS NULL AND due_at <= $2 AND claimed_until <= $2
          ORDER BY event_id COLLATE "C" LIMIT $3
          FOR UPDATE SKIP LOCKED)
       UPDATE ${this.s}.deliveries d SET claimed_until = $4
         FROM due, ${this.s}.events e
        WHERE d.endpoint = due.endpoint AND d.event_id = due.event_id AND e.id = d.event_id
       RETURNING d.event_id, d.attempts, d.created_at, e.body`,
      [endpoint, now, limit, now + leaseMs],
    );
    return rows
      .sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0))
      .map((row) => ({
        event: row.body,
        endpoint,
        attempts: Number(row.attempts),
        createdAt: Number(row.created_at),
      }));
  }

  async finish(
    delivery: EventDelivery,
    outcome: DeliveryOutcome,
    attempts: number,
    now: number,
  ): Promise<void> {
    await this.current().query(
      `UPDATE ${this.s}.deliveries SET outcome = $1, attempts = $2, settled_at = $3, claimed_until = 0
        WHERE endpoint = $4 AND event_id = $5 AND outcome IS NULL`,
      [outcome, attempts, now, delivery.endpoint, delivery.event.id],
    );
  }

  async retry(delivery: EventDelivery, attempts: number, dueAt: number): Promise<void> {
    await this.current().query(
      `UPDATE ${this.s}.deliveries SET attempts = $1, due_at = $2, claimed_until = 0
        WHERE endpoint = $3 AND event_id = $4 AND outcome IS NULL`,
      [attempts, dueAt, delivery.endpoint, delivery.event.id],
    );
  }

  async bound(endpoint: string, maxPending: number, now: number): Promise<number> {
    return this.transaction(this.current(), async (client) => {
      // Serialises bounding per endpoint across nodes, so two nodes do not both drop the excess.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`natter_events_bound:${endpoint}`]);
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${this.s}.deliveries WHERE endpoint = $1 AND outcome IS NULL`,
        [endpoint],
      );
      const excess = Number(rows[0]?.n ?? 0) - maxPending;
      if (excess <= 0) return 0;
      const dropped = await client.query(
        `UPDATE ${this.s}.deliveries SET outcome = 'dropped', settled_at = $2, claimed_until = 0
          WHERE endpoint = $1 AND event_id IN (
            SELECT event_id FROM ${this.s}.deliveries
             WHERE endpoint = $1 AND outcome IS NULL AND claimed_until <= $2
             ORDER BY event_id COLLATE "C" LIMIT $3 FOR UPDATE SKIP LOCKED)`,
        [endpoint, now, excess],
      );
      return dropped.rowCount ?? 0;
    });
  }

  async purge(before: number): Promise<void> {
    await this.transaction(this.current(), async (client) => {
      await client.query(`DELETE FROM ${this.s}.deliveries WHERE outcome IS NOT NULL AND settled_at < $1`, [
        before,
      ]);
      await client.query(
        `DELETE FROM ${this.s}.events e WHERE e.created_at < $1 AND NOT EXISTS (
           SELECT 1 FROM ${this.s}.deliveries d WHERE d.event_id = e.id AND d.outcome IS NULL)`,
        [before],
      );
    });
  }

  async counts(): Promise<{ events: number; pending: Record<string, number> }> {
    const pool = this.current();
    const events = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.s}.events`);
    const pending = await pool.query<{ endpoint: string; n: string }>(
      `SELECT endpoint, count(*) AS n FROM ${this.s}.deliveries WHERE outcome IS NULL GROUP BY endpoint`,
    );
    return {
      events: Number(events.rows[0]?.n ?? 0),
      pending: Object.fromEntries(pending.rows.map((r) => [r.endpoint, Number(r.n)])),
    };
  }
}
