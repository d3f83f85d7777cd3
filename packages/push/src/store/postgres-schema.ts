import { ErrorCode, NatterError } from '@natter/server-core';
import type pg from 'pg';

/** Version of the PostgreSQL push schema. */
export const POSTGRES_PUSH_SCHEMA_VERSION = 2;

/** The same tables as the SQLite store's, in PostgreSQL types. */
const V1 = (s: string) => `
CREATE TABLE ${s}.subscriptions (
  user_id text NOT NULL,
  device_id text NOT NULL,
  kind text NOT NULL,
  key text NOT NULL,
  data jsonb NOT NULL,
  registered_at bigint NOT NULL,
  PRIMARY KEY (user_id, device_id)
);
CREATE UNIQUE INDEX subscriptions_key ON ${s}.subscriptions (kind, key);
CREATE TABLE ${s}.mutes (
  user_id text NOT NULL,
  channel_id text NOT NULL,
  PRIMARY KEY (user_id, channel_id)
);
CREATE TABLE ${s}.pending (
  user_id text NOT NULL,
  channel_id text NOT NULL,
  count integer NOT NULL,
  latest_seq bigint NOT NULL,
  latest_message_id text NOT NULL,
  latest_sender_id text NOT NULL,
  latest_text text,
  first_at bigint NOT NULL,
  due_at bigint NOT NULL,
  claimed_until bigint,
  PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX pending_due ON ${s}.pending (due_at);
CREATE TABLE ${s}.collapse (
  user_id text NOT NULL,
  channel_id text NOT NULL,
  last_sent_at bigint NOT NULL,
  last_seq bigint NOT NULL,
  PRIMARY KEY (user_id, channel_id)
);
CREATE TABLE ${s}.jobs (
  id text NOT NULL,
  device_id text NOT NULL,
  user_id text NOT NULL,
  channel_id text NOT NULL,
  payload jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  due_at bigint NOT NULL,
  created_at bigint NOT NULL,
  sent_at bigint,
  outcome text,
  claimed_until bigint,
  PRIMARY KEY (id, device_id)
);
CREATE INDEX jobs_due ON ${s}.jobs (due_at) WHERE sent_at IS NULL;
CREATE INDEX jobs_finished ON ${s}.jobs (sent_at) WHERE sent_at IS NOT NULL;
`;

/** `first_seq`, the channel index and `reaction_sent`, as in the SQLite store's version 3. */
const V2 = (s: string) => `
ALTER TABLE ${s}.pending ADD COLUMN first_seq bigint;
CREATE INDEX pending_by_channel ON ${s}.pending (channel_id);
CREATE TABLE ${s}.reaction_sent (
  user_id text NOT NULL,
  channel_id text NOT NULL,
  last_sent_at bigint NOT NULL,
  PRIMARY KEY (user_id, channel_id)
);
`;

/**
 * Creates or upgrades the push schema; several nodes may start at once (an advisory lock serialises them).
 * Refuses a schema written by a newer version.
 */
export async function migratePostgres(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`natter_push:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.meta (key text PRIMARY KEY, value text NOT NULL)`,
    );
    const found = await client.query<{ value: string }>(
      `SELECT value FROM ${schema}.meta WHERE key = 'version'`,
    );
    const version = found.rows[0] ? Number(found.rows[0].value) : 0;
    if (version > POSTGRES_PUSH_SCHEMA_VERSION) {
      throw new NatterError(
        ErrorCode.STORE_VERSION_UNSUPPORTED,
        `push schema ${schema} has version ${version}, newer than this @natter/push supports (${POSTGRES_PUSH_SCHEMA_VERSION})`,
      );
    }
    if (version < 1) {
      await client.query(V1(schema));
      await client.query(`INSERT INTO ${schema}.meta (key, value) VALUES ('version', '1')`);
    }
    if (version < 2) {
      await client.query(V2(schema));
      await client.query(`UPDATE ${schema}.meta SET value = '2' WHERE key = 'version'`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
