import { ErrorCode, NatterError, type PushSubscriptionInput } from '@natter/server-core';
import pg from 'pg';
import type { PushPayload, StoredSubscription } from '../notifier.js';
import { migratePostgres } from './postgres-schema.js';
import {
  type JobOutcome,
  normalizeSubscription,
  type OwedMessage,
  type PendingNotification,
  type PromoteResult,
  type PushJob,
  type PushStore,
  type PushStoreSettings,
  subscriptionKey,
} from './push-store.js';

/** Options of {@link createPostgresPushStore}. */
export interface PostgresPushStoreOptions {
  /** A `postgres://` URL; or give `pool`. */
  connectionString?: string;
  /** An existing `pg` pool to use (the store does not end it on close). */
  pool?: pg.Pool;
  /** Schema holding the push tables, created when missing. @default 'natter_push' */
  schema?: string;
  /** Connections of the store's own pool. @default 4 */
  maxPoolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

interface PendingRow {
  user_id: string;
  channel_id: string;
  count: number;
  latest_seq: string | number;
  latest_message_id: string;
  latest_sender_id: string;
  latest_text: string | null;
  first_at: string | number;
  due_at: string | number;
}

interface JobRow {
  id: string;
  device_id: string;
  user_id: string;
  channel_id: string;
  payload: PushPayload;
  attempts: number;
  due_at: string | number;
}

interface SubscriptionRow {
  user_id: string;
  device_id: string;
  data: PushSubscriptionInput;
  registered_at: string | number;
}

const toPending = (r: PendingRow): PendingNotification => ({
  userId: r.user_id,
  channelId: r.channel_id,
  count: Number(r.count),
  latestSeq: Number(r.latest_seq),
  latestMessageId: r.latest_message_id,
  latestSenderId: r.latest_sender_id,
  latestText: r.latest_text,
  firstAt: Number(r.first_at),
  dueAt: Number(r.due_at),
});

const toJob = (r: JobRow): PushJob => ({
  id: r.id,
  deviceId: r.device_id,
  userId: r.user_id,
  channelId: r.channel_id,
  payload: r.payload,
  attempts: Number(r.attempts),
  dueAt: Number(r.due_at),
});

const toSubscription = (r: SubscriptionRow): StoredSubscription => ({
  userId: r.user_id,
  deviceId: r.device_id,
  subscription: r.data,
  registeredAt: Number(r.registered_at),
});

/**
 * The PostgreSQL {@link PushStore}: one queue shared by every chat node of a cluster. Due owed
 * notifications and jobs are claimed with `FOR UPDATE SKIP LOCKED` and a lease (their due time moves past
 * the lease), so each is handled by one node at a time, and a crashed node's claims come back when the
 * lease ends. Every method is one transaction. `import { createPostgresPushStore } from '@natter/push/postgres'`.
 */
export function createPostgresPushStore(options: PostgresPushStoreOptions = {}): PushStore {
  const schema = options.schema ?? 'natter_push';
  if (!SCHEMA_NAME.test(schema)) throw new RangeError('schema must be a lower-case SQL identifier');
  if (!options.pool && !options.connectionString)
    throw new TypeError('createPostgresPushStore needs `connectionString` or `pool`');
  return new PostgresPushStore(options, schema);
}

class PostgresPushStore implements PushStore {
  readonly name = 'postgres';
  private pool: pg.Pool | undefined;
  private collapseMs = 0;

  constructor(
    private readonly options: PostgresPushStoreOptions,
    private readonly schema: string,
  ) {}

  async open(settings: PushStoreSettings): Promise<void> {
    this.collapseMs = settings.collapseMs;
    if (this.pool) return;
    const pool =
      this.options.pool ??
      new pg.Pool({ connectionString: this.options.connectionString, max: this.options.maxPoolSize ?? 4 });
    if (!this.options.pool) pool.on('error', () => undefined);
    try {
      await migratePostgres(pool, this.schema);
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

  private get s(): string {
    return this.schema;
  }

  private current(): pg.Pool {
    if (!this.pool) throw new NatterError(ErrorCode.UNAVAILABLE, 'the push store is not open');
    return this.pool;
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.current().query<R>(sql, values);
  }

  /** Runs `fn` in one transaction on one connection. */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.current().connect();
    try {
      await client.query('BEGIN');
      const value = await fn(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async putSubscription(
    userId: string,
    deviceId: string,
    subscription: PushSubscriptionInput,
    now: number,
  ): Promise<void> {
    const clean = normalizeSubscription(subscription);
    const key = subscriptionKey(clean);
    await this.transaction(async (c) => {
      await c.query(
        `DELETE FROM ${this.s}.subscriptions WHERE kind = $1 AND key = $2 AND NOT (user_id = $3 AND device_id = $4)`,
        [clean.kind, key, userId, deviceId],
      );
      await c.query(
        `INSERT INTO ${this.s}.subscriptions (user_id, device_id, kind, key, data, registered_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, device_id) DO UPDATE SET kind = excluded.kind, key = excluded.key,
           data = excluded.data, registered_at = excluded.registered_at`,
        [userId, deviceId, clean.kind, key, JSON.stringify(clean), now],
      );
    });
  }

  async removeSubscriptions(userId: string, deviceId?: string): Promise<void> {
    if (deviceId === undefined) {
      await this.query(`DELETE FROM ${this.s}.subscriptions WHERE user_id = $1`, [userId]);
    } else {
      await this.query(`DELETE FROM ${this.s}.subscriptions WHERE user_id = $1 AND device_id = $2`, [
        userId,
        deviceId,
      ]);
    }
  }

  async subscription(userId: string, deviceId: string): Promise<StoredSubscription | undefined> {
    const { rows } = await this.query<SubscriptionRow>(
      `SELECT * FROM ${this.s}.subscriptions WHERE user_id = $1 AND device_id = $2`,
      [userId, deviceId],
    );
    return rows[0] && toSubscription(rows[0]);
  }

  async subscriptionsOf(userId: string): Promise<StoredSubscription[]> {
    const { rows } = await this.query<SubscriptionRow>(
      `SELECT * FROM ${this.s}.subscriptions WHERE user_id = $1 ORDER BY device_id`,
      [userId],
    );
    return rows.map(toSubscription);
  }

  async setMuted(userId: string, channelId: string, muted: boolean): Promise<void> {
    await this.transaction(async (c) => {
      if (muted) {
        await c.query(
          `INSERT INTO ${this.s}.mutes (user_id, channel_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [userId, channelId],
        );
        await c.query(`DELETE FROM ${this.s}.pending WHERE user_id = $1 AND channel_id = $2`, [
          userId,
          channelId,
        ]);
      } else {
        await c.query(`DELETE FROM ${this.s}.mutes WHERE user_id = $1 AND channel_id = $2`, [
          userId,
          channelId,
        ]);
      }
    });
  }

  async isMuted(userId: string, channelId: string): Promise<boolean> {
    const { rowCount } = await this.query(
      `SELECT 1 FROM ${this.s}.mutes WHERE user_id = $1 AND channel_id = $2`,
      [userId, channelId],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * One statement for the whole batch: the messages that are still owed (a subscriber, not muted, past the
   * last notification and the owed one) are counted per (user, channel) and merged into `pending`. Two
   * nodes enqueueing for one (user, channel) at once merge too (the newest message wins, counts add).
   */
  async enqueue(messages: readonly OwedMessage[], now: number): Promise<number> {
    if (messages.length === 0) return 0;
    const column = <K extends keyof OwedMessage>(key: K) => messages.map((m) => m[key]);
    const { rows } = await this.query<{ recorded: string }>(
      `WITH m AS (
         SELECT DISTINCT ON (user_id, channel_id, seq) *
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
           AS m(user_id, channel_id, seq, message_id, sender_id, text)
       ), owed AS (
         SELECT m.*, count(*) OVER (PARTITION BY m.user_id, m.channel_id) AS n,
           min(m.seq) OVER (PARTITION BY m.user_id, m.channel_id) AS first_seq,
           row_number() OVER (PARTITION BY m.user_id, m.channel_id ORDER BY m.seq DESC) AS newest,
           c.last_sent_at
         FROM m
         LEFT JOIN ${this.s}.collapse c ON c.user_id = m.user_id AND c.channel_id = m.channel_id
         LEFT JOIN ${this.s}.pending p ON p.user_id = m.user_id AND p.channel_id = m.channel_id
         WHERE EXISTS (SELECT 1 FROM ${this.s}.subscriptions s WHERE s.user_id = m.user_id)
           AND NOT EXISTS (SELECT 1 FROM ${this.s}.mutes mu WHERE mu.user_id = m.user_id AND mu.channel_id = m.channel_id)
           AND (c.last_seq IS NULL OR m.seq > c.last_seq)
           AND (p.latest_seq IS NULL OR m.seq > p.latest_seq)
       )
       , merged AS (
         INSERT INTO ${this.s}.pending AS p (user_id, channel_id, count, latest_seq, latest_message_id,
           latest_sender_id, latest_text, first_at, due_at, first_seq)
         SELECT user_id, channel_id, n, seq, message_id, sender_id, text, $7,
           GREATEST($7, COALESCE(last_sent_at + $8, $7)), first_seq
         FROM owed WHERE newest = 1
         ON CONFLICT (user_id, channel_id) DO UPDATE SET
           count = p.count + excluded.count,
           latest_message_id = CASE WHEN excluded.latest_seq > p.latest_seq THEN excluded.latest_message_id ELSE p.latest_message_id END,
           latest_sender_id = CASE WHEN excluded.latest_seq > p.latest_seq THEN excluded.latest_sender_id ELSE p.latest_sender_id END,
           latest_text = CASE WHEN excluded.latest_seq > p.latest_seq THEN excluded.latest_text ELSE p.latest_text END,
           latest_seq = GREATEST(p.latest_seq, excluded.latest_seq)
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM owed) AS recorded, (SELECT count(*) FROM merged) AS merged`,
      [
        column('userId'),
        column('channelId'),
        column('seq'),
        column('messageId'),
        column('senderId'),
        column('text'),
        now,
        this.collapseMs,
      ],
    );
    return Number(rows[0]?.recorded ?? 0);
  }

  async claimDuePending(now: number, limit: number, leaseMs: number): Promise<PendingNotification[]> {
    const { rows } = await this.query<PendingRow>(
      `WITH due AS (
         SELECT user_id, channel_id FROM ${this.s}.pending
         WHERE due_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
         ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE ${this.s}.pending p SET claimed_until = $3 FROM due
       WHERE p.user_id = due.user_id AND p.channel_id = due.channel_id
       RETURNING p.user_id, p.channel_id, p.count, p.latest_seq, p.latest_message_id, p.latest_sender_id,
         p.latest_text, p.first_at, p.due_at`,
      [now, limit, now + leaseMs],
    );
    return rows.map(toPending).sort((a, b) => a.dueAt - b.dueAt);
  }

  async postponePending(userId: string, channelId: string, dueAt: number): Promise<void> {
    await this.query(
      `UPDATE ${this.s}.pending SET due_at = $1, claimed_until = NULL WHERE user_id = $2 AND channel_id = $3`,
      [dueAt, userId, channelId],
    );
  }

  async dropPending(userId: string, channelId: string, upToSeq: number): Promise<void> {
    await this.transaction(async (c) => {
      const dropped = await c.query(
        `DELETE FROM ${this.s}.pending WHERE user_id = $1 AND channel_id = $2 AND latest_seq <= $3`,
        [userId, channelId, upToSeq],
      );
      // A newer message joined while it was claimed: released, it is due again now, not when the claim ends.
      if ((dropped.rowCount ?? 0) === 0) {
        await c.query(
          `UPDATE ${this.s}.pending SET claimed_until = NULL WHERE user_id = $1 AND channel_id = $2`,
          [userId, channelId],
        );
      }
    });
  }

  /** Two statements in one transaction, as the SQLite store's `dropMessage` (see the port). */
  async dropMessage(channelId: string, seq: number, senderId: string): Promise<void> {
    const counting = `channel_id = $1 AND user_id <> $3 AND $2 BETWEEN coalesce(first_seq, latest_seq) AND latest_seq`;
    await this.transaction(async (c) => {
      await c.query(`DELETE FROM ${this.s}.pending WHERE ${counting} AND count <= 1`, [
        channelId,
        seq,
        senderId,
      ]);
      await c.query(
        `UPDATE ${this.s}.pending SET count = count - 1,
           first_seq = CASE WHEN coalesce(first_seq, latest_seq) = $2 THEN $2 + 1 ELSE first_seq END,
           latest_text = CASE WHEN latest_seq = $2 THEN NULL ELSE latest_text END
         WHERE ${counting} AND count > 1`,
        [channelId, seq, senderId],
      );
    });
  }

  async promote(
    userId: string,
    channelId: string,
    now: number,
    build: (pending: PendingNotification) => PushPayload,
  ): Promise<PromoteResult> {
    return this.transaction(async (c): Promise<PromoteResult> => {
      const found = await c.query<PendingRow>(
        `SELECT * FROM ${this.s}.pending WHERE user_id = $1 AND channel_id = $2 FOR UPDATE`,
        [userId, channelId],
      );
      const row = found.rows[0];
      if (!row) return { kind: 'none' };
      const pending = toPending(row);
      const last = await c.query<{ last_sent_at: string | number }>(
        `SELECT last_sent_at FROM ${this.s}.collapse WHERE user_id = $1 AND channel_id = $2`,
        [userId, channelId],
      );
      const lastSentAt = last.rows[0] ? Number(last.rows[0].last_sent_at) : undefined;
      if (lastSentAt !== undefined && now < lastSentAt + this.collapseMs) {
        const until = lastSentAt + this.collapseMs;
        await c.query(
          `UPDATE ${this.s}.pending SET due_at = $1, claimed_until = NULL WHERE user_id = $2 AND channel_id = $3`,
          [until, userId, channelId],
        );
        return { kind: 'collapsed', until };
      }
      await c.query(`DELETE FROM ${this.s}.pending WHERE user_id = $1 AND channel_id = $2`, [
        userId,
        channelId,
      ]);
      const devices = await c.query<{ device_id: string }>(
        `SELECT device_id FROM ${this.s}.subscriptions WHERE user_id = $1 ORDER BY device_id`,
        [userId],
      );
      if (devices.rows.length === 0) return { kind: 'no_subscriptions' };
      const payload = build(pending);
      await c.query(
        `INSERT INTO ${this.s}.jobs (id, device_id, user_id, channel_id, payload, attempts, due_at, created_at)
         SELECT $1, d, $3, $4, $5, 0, $6, $6 FROM unnest($2::text[]) AS d`,
        [payload.id, devices.rows.map((d) => d.device_id), userId, channelId, JSON.stringify(payload), now],
      );
      await c.query(
        `INSERT INTO ${this.s}.collapse (user_id, channel_id, last_sent_at, last_seq) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, channel_id) DO UPDATE SET last_sent_at = excluded.last_sent_at,
           last_seq = GREATEST(${this.s}.collapse.last_seq, excluded.last_seq)`,
        [userId, channelId, now, pending.latestSeq],
      );
      return { kind: 'queued', jobs: devices.rows.length };
    });
  }

  async claimDueJobs(now: number, limit: number, leaseMs: number): Promise<PushJob[]> {
    const { rows } = await this.query<JobRow>(
      `WITH due AS (
         SELECT id, device_id FROM ${this.s}.jobs
         WHERE sent_at IS NULL AND due_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
         ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE ${this.s}.jobs j SET claimed_until = $3 FROM due
       WHERE j.id = due.id AND j.device_id = due.device_id
       RETURNING j.id, j.device_id, j.user_id, j.channel_id, j.payload, j.attempts, j.due_at`,
      [now, limit, now + leaseMs],
    );
    return rows.map(toJob).sort((a, b) => a.dueAt - b.dueAt);
  }

  async finishJob(
    job: PushJob,
    outcome: JobOutcome,
    now: number,
    attempts: number,
    goneKey?: string,
  ): Promise<boolean> {
    return this.transaction(async (c) => {
      const updated = await c.query(
        `UPDATE ${this.s}.jobs SET sent_at = $1, outcome = $2, attempts = $3
         WHERE id = $4 AND device_id = $5 AND sent_at IS NULL`,
        [now, outcome, attempts, job.id, job.deviceId],
      );
      const changed = (updated.rowCount ?? 0) > 0;
      if (changed && outcome === 'gone' && goneKey !== undefined) {
        await c.query(
          `DELETE FROM ${this.s}.subscriptions WHERE user_id = $1 AND device_id = $2 AND key = $3`,
          [job.userId, job.deviceId, goneKey],
        );
      }
      return changed;
    });
  }

  async retryJob(job: PushJob, attempts: number, dueAt: number): Promise<void> {
    await this.query(
      `UPDATE ${this.s}.jobs SET attempts = $1, due_at = $2, claimed_until = NULL
       WHERE id = $3 AND device_id = $4 AND sent_at IS NULL`,
      [attempts, dueAt, job.id, job.deviceId],
    );
  }

  async queueReaction(
    userId: string,
    channelId: string,
    now: number,
    build: () => PushPayload,
  ): Promise<number> {
    return this.transaction(async (c) => {
      const muted = await c.query(`SELECT 1 FROM ${this.s}.mutes WHERE user_id = $1 AND channel_id = $2`, [
        userId,
        channelId,
      ]);
      if ((muted.rowCount ?? 0) > 0) return 0;
      const { rows: devices } = await c.query<{ device_id: string }>(
        `SELECT device_id FROM ${this.s}.subscriptions WHERE user_id = $1 ORDER BY device_id`,
        [userId],
      );
      if (devices.length === 0) return 0;
      // Takes the window when it is free; a node racing for it waits on the row and then finds it taken.
      const claimed = await c.query(
        `INSERT INTO ${this.s}.reaction_sent AS r (user_id, channel_id, last_sent_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, channel_id) DO UPDATE SET last_sent_at = excluded.last_sent_at
           WHERE r.last_sent_at + $4 <= excluded.last_sent_at
         RETURNING 1`,
        [userId, channelId, now, this.collapseMs],
      );
      if ((claimed.rowCount ?? 0) === 0) return 0;
      const payload = build();
      await c.query(
        `INSERT INTO ${this.s}.jobs (id, device_id, user_id, channel_id, payload, attempts, due_at, created_at)
         SELECT $1, d, $3, $4, $5, 0, $6, $6 FROM unnest($2::text[]) AS d`,
        [payload.id, devices.map((d) => d.device_id), userId, channelId, JSON.stringify(payload), now],
      );
      return devices.length;
    });
  }

  async purge(finishedBefore: number, now: number): Promise<void> {
    await this.query(`DELETE FROM ${this.s}.reaction_sent WHERE last_sent_at < $1`, [now - this.collapseMs]);
    await this.query(`DELETE FROM ${this.s}.jobs WHERE sent_at IS NOT NULL AND sent_at < $1`, [
      finishedBefore,
    ]);
    await this.query(`DELETE FROM ${this.s}.collapse WHERE last_sent_at < $1`, [
      now - this.collapseMs - 24 * 3_600_000,
    ]);
  }

  async counts(): Promise<{ pending: number; jobs: number }> {
    const { rows } = await this.query<{ pending: string; jobs: string }>(
      `SELECT (SELECT count(*) FROM ${this.s}.pending) AS pending,
              (SELECT count(*) FROM ${this.s}.jobs WHERE sent_at IS NULL) AS jobs`,
      [],
    );
    return { pending: Number(rows[0]!.pending), jobs: Number(rows[0]!.jobs) };
  }
}
