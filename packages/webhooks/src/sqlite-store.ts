import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, NatterError, type NatterEvent } from '@natter/protocol';
import type { EventPage } from '@natter/server-core';
import Database from 'better-sqlite3';
import type { DeliveryOutcome, EventDelivery, EventStore } from './event-store.js';

/** Version of the event store's schema (`PRAGMA user_version`). */
export const EVENT_SCHEMA_VERSION = 1;

const SCHEMA = `
-- The event log: kept for replay (GET /v1/server/events) until the retention time, and while any
-- endpoint still waits for the event.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX events_by_time ON events (created_at);

-- One row per (endpoint, event). outcome is NULL while owed; claimed_until hides a row being sent.
CREATE TABLE deliveries (
  endpoint TEXT NOT NULL,
  event_id TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  claimed_until INTEGER NOT NULL DEFAULT 0,
  outcome TEXT,
  settled_at INTEGER,
  PRIMARY KEY (endpoint, event_id)
) WITHOUT ROWID;
CREATE INDEX deliveries_owed ON deliveries (endpoint, due_at) WHERE outcome IS NULL;
CREATE INDEX deliveries_settled ON deliveries (settled_at) WHERE outcome IS NOT NULL;
`;

interface DueRow {
  event_id: string;
  attempts: number;
  created_at: number;
  body: string;
}

/** Options of {@link createSqliteEventStore}. */
export interface SqliteEventStoreOptions {
  /** SQLite file, created with its directory. One process owns it. */
  path: string;
}

/**
 * The SQLite {@link EventStore} (WAL, `synchronous = NORMAL`: a process crash loses nothing recorded). Every
 * method is one synchronous better-sqlite3 transaction, so `append` has the events on disk before the
 * server's commit hook returns. The default store of `createEventWebhooks({ dataPath })`.
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  return new SqliteEventStore(options.path);
}

class SqliteEventStore implements EventStore {
  readonly name = 'sqlite';
  private db: Database.Database | undefined;

  constructor(private readonly path: string) {}

  private get open_(): Database.Database {
    if (!this.db) throw new NatterError(ErrorCode.UNAVAILABLE, 'event store is not open');
    return this.db;
  }

  async open(): Promise<void> {
    if (this.db) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path);
    try {
      db.pragma('busy_timeout = 5000');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`could not switch ${this.path} to WAL mode (got ${String(mode)})`);
      db.pragma('synchronous = NORMAL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > EVENT_SCHEMA_VERSION) {
        throw new NatterError(
          ErrorCode.STORE_VERSION_UNSUPPORTED,
          `event store schema ${version} is newer than this @natter/webhooks supports (${EVENT_SCHEMA_VERSION})`,
        );
      }
      if (version < 1) {
        db.transaction(() => {
          db.exec(SCHEMA);
          db.pragma(`user_version = ${EVENT_SCHEMA_VERSION}`);
        })();
      }
      // One process owns the file: a claim still standing belongs to a previous run that died holding it.
      db.prepare('UPDATE deliveries SET claimed_until = 0 WHERE outcome IS NULL AND claimed_until > 0').run();
      this.db = db;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    db?.close();
  }

  async append(
    events: readonly NatterEvent[],
    endpointsOf: (event: NatterEvent) => readonly string[],
    now: number,
  ): Promise<void> {
    const db = this.open_;
    const insertEvent = db.prepare(
      'INSERT OR IGNORE INTO events (id, type, created_at, body) VALUES (?, ?, ?, ?)',
    );
    const insertDelivery = db.prepare(
      'INSERT OR IGNORE INTO deliveries (endpoint, event_id, created_at, due_at) VALUES (?, ?, ?, ?)',
    );
    db.transaction(() => {
      for (const event of events) {
        insertEvent.run(event.id, event.type, event.createdAt, JSON.stringify(event));
        for (const endpoint of endpointsOf(event)) insertDelivery.run(endpoint, event.id, now, now);
      }
    })();
  }

  async list(after: string | undefined, limit: number): Promise<EventPage> {
    const rows = this.open_
      .prepare('SELECT body FROM events WHERE id > ? ORDER BY id LIMIT ?')
      .all(after ?? '', limit + 1) as Array<{ body: string }>;
    return {
      events: rows.slice(0, limit).map((row) => JSON.parse(row.body) as NatterEvent),
      hasMore: rows.length > limit,
    };
  }

  async claimDue(endpoint: string, now: number, limit: number, leaseMs: number): Promise<EventDelivery[]> {
    const db = this.open_;
    return db.transaction(() => {
      const rows = db
        .prepare(
          `SELECT d.event_id, d.attempts, d.created_at, e.body FROM deliveries d JOIN events e ON e.id = d.event_id
            WHERE d.endpoint = ? AND d.outcome IS NULL AND d.due_at <= ? AND d.claimed_until <= ?
            ORDER BY d.event_id LIMIT ?`,
        )
        .all(endpoint, now, now, limit) as DueRow[];
      const claim = db.prepare('UPDATE deliveries SET claimed_until = ? WHERE endpoint = ? AND event_id = ?');
      for (const row of rows) claim.run(now + leaseMs, endpoint, row.event_id);
      return rows.map((row) => ({
        event: JSON.parse(row.body) as NatterEvent,
        endpoint,
        attempts: row.attempts,
        createdAt: row.created_at,
      }));
    })();
  }

  async finish(
    delivery: EventDelivery,
    outcome: DeliveryOutcome,
    attempts: number,
    now: number,
  ): Promise<void> {
    this.open_
      .prepare(
        `UPDATE deliveries SET outcome = ?, attempts = ?, settled_at = ?, claimed_until = 0
          WHERE endpoint = ? AND event_id = ? AND outcome IS NULL`,
      )
      .run(outcome, attempts, now, delivery.endpoint, delivery.event.id);
  }

  async retry(delivery: EventDelivery, attempts: number, dueAt: number): Promise<void> {
    this.open_
      .prepare(
        `UPDATE deliveries SET attempts = ?, due_at = ?, claimed_until = 0
          WHERE endpoint = ? AND event_id = ? AND outcome IS NULL`,
      )
      .run(attempts, dueAt, delivery.endpoint, delivery.event.id);
  }

  async bound(endpoint: string, maxPending: number, now: number): Promise<number> {
    const db = this.open_;
    return db.transaction(() => {
      const { n } = db
        .prepare('SELECT count(*) AS n FROM deliveries WHERE endpoint = ? AND outcome IS NULL')
        .get(endpoint) as { n: number };
      if (n <= maxPending) return 0;
      return db
        .prepare(
          `UPDATE deliveries SET outcome = 'dropped', settled_at = ?, claimed_until = 0
            WHERE endpoint = ? AND outcome IS NULL AND claimed_until <= ? AND event_id IN (
              SELECT event_id FROM deliveries WHERE endpoint = ? AND outcome IS NULL AND claimed_until <= ?
               ORDER BY event_id LIMIT ?)`,
        )
        .run(now, endpoint, now, endpoint, now, n - maxPending).changes;
    })();
  }

  async purge(before: number): Promise<void> {
    const db = this.open_;
    db.transaction(() => {
      db.prepare('DELETE FROM deliveries WHERE outcome IS NOT NULL AND settled_at < ?').run(before);
      db.prepare(
        `DELETE FROM events WHERE created_at < ? AND NOT EXISTS (
           SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.outcome IS NULL)`,
      ).run(before);
    })();
  }

  async counts(): Promise<{ events: number; pending: Record<string, number> }> {
    const db = this.open_;
    const { n } = db.prepare('SELECT count(*) AS n FROM events').get() as { n: number };
    const rows = db
      .prepare('SELECT endpoint, count(*) AS n FROM deliveries WHERE outcome IS NULL GROUP BY endpoint')
      .all() as Array<{ endpoint: string; n: number }>;
    return { events: n, pending: Object.fromEntries(rows.map((r) => [r.endpoint, r.n])) };
  }
}
