import { ErrorCode, NatterError } from '@natter/server-core';
import type { Pool, PoolClient } from 'pg';
import { APPEND_ALONE_FUNCTION, APPEND_FUNCTIONS } from './append-functions.js';
import { LIFECYCLE_FUNCTIONS } from './lifecycle-functions.js';

/** One step of the schema history. Steps are never edited once released; new ones are appended. */
export interface Migration {
  /** The schema version this step produces: 1, 2, 3, ... in order. */
  version: number;
  /** Why the step exists. */
  description: string;
  /** SQL of the step for the quoted schema name `s`, applied in one transaction with the version bump. */
  sql: (s: string) => string;
}

/**
 * The words of a message for the full-text index: `\` plus the next character (the text escape, see
 * text.ts) and every run of characters that are not letters or digits become spaces, so the index
 * holds exactly the letter-and-digit words the other adapters match on (PostgreSQL's parser would
 * otherwise keep e-mail addresses, URLs, hyphenated words and versions as single tokens).
 */
const SEARCH_WORDS = String.raw`regexp_replace(text, '\\.|[^[:alnum:]]+', ' ', 'g')`;

/**
 * The schema history. Hot queries read along primary keys: messages by (channel_id, seq) for
 * history, the sync log by (user_id, pos) for sync, mentions by (user_id, message_id) scanned
 * backwards for "newest first". Ids compared by `beforeId` use the "C" collation (bytewise, as in
 * the other adapters).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      'contract v2: accounts, channels, members, messages with full-text index, sync log, mentions',
    sql: (s) => `
      CREATE TABLE ${s}.meta (
        key text PRIMARY KEY,
        value text NOT NULL
      );

      CREATE TABLE ${s}.users (
        id text PRIMARY KEY,
        username text COLLATE "C" NOT NULL UNIQUE,
        display_name text NOT NULL,
        password_hash text,
        created_at bigint NOT NULL
      );

      CREATE TABLE ${s}.refresh_tokens (
        token_hash text PRIMARY KEY,
        user_id text NOT NULL,
        device_id text NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX refresh_tokens_by_user ON ${s}.refresh_tokens (user_id, device_id);

      CREATE TABLE ${s}.channels (
        id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('direct', 'group')),
        name text,
        created_by text NOT NULL,
        created_at bigint NOT NULL,
        last_seq bigint NOT NULL DEFAULT 0,
        direct_key text UNIQUE,
        last_activity_at bigint NOT NULL
      );

      CREATE TABLE ${s}.members (
        channel_id text NOT NULL,
        user_id text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        joined_at bigint NOT NULL,
        joined_seq bigint NOT NULL,
        read_seq bigint NOT NULL,
        delivered_seq bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (channel_id, user_id)
      );
      CREATE INDEX members_by_user ON ${s}.members (user_id, channel_id);

      CREATE TABLE ${s}.messages (
        channel_id text NOT NULL,
        seq bigint NOT NULL,
        id text COLLATE "C" NOT NULL,
        sender_id text NOT NULL,
        client_msg_id text,
        kind text NOT NULL CHECK (kind IN ('text', 'system')),
        text text NOT NULL,
        mentions text NOT NULL,
        system text,
        created_at bigint NOT NULL,
        search tsvector GENERATED ALWAYS AS (
          CASE WHEN kind = 'text' THEN to_tsvector('simple'::regconfig, ${SEARCH_WORDS}) END
        ) STORED,
        PRIMARY KEY (channel_id, seq)
      );
      CREATE INDEX messages_search ON ${s}.messages USING gin (search);

      CREATE TABLE ${s}.sync_heads (
        user_id text PRIMARY KEY,
        head bigint NOT NULL
      );

      CREATE TABLE ${s}.sync_log (
        user_id text NOT NULL,
        pos bigint NOT NULL,
        channel_id text NOT NULL,
        seq bigint NOT NULL,
        PRIMARY KEY (user_id, pos)
      );

      CREATE TABLE ${s}.client_msgs (
        sender_id text NOT NULL,
        client_msg_id text NOT NULL,
        channel_id text NOT NULL,
        seq bigint NOT NULL,
        sender_pos bigint NOT NULL,
        PRIMARY KEY (sender_id, client_msg_id)
      );

      CREATE TABLE ${s}.mentions (
        user_id text NOT NULL,
        message_id text COLLATE "C" NOT NULL,
        channel_id text NOT NULL,
        seq bigint NOT NULL,
        PRIMARY KEY (user_id, message_id)
      );
    `,
  },
  {
    version: 2,
    description: 'appends as one function call: append_message (appendMessage), send_checked (appendChecked)',
    sql: APPEND_FUNCTIONS,
  },
  {
    version: 3,
    description: 'users.deactivated_at: a user deactivated by the app backend (server API)',
    sql: (s) => `ALTER TABLE ${s}.users ADD COLUMN deactivated_at bigint;`,
  },
  {
    version: 4,
    description: 'session_revocations: logged-out sessions and users whose earlier tokens are refused',
    sql: (s) => `CREATE TABLE ${s}.session_revocations (
        subject text PRIMARY KEY,
        issued_before bigint NOT NULL,
        expires_at bigint NOT NULL
      );`,
  },
  {
    version: 5,
    description: "messages.attachments: each message's attachments (media metadata, JSON), null for none",
    sql: (s) => `ALTER TABLE ${s}.messages ADD COLUMN attachments text;`,
  },
  {
    version: 6,
    description:
      'contract v4 lifecycle: edits, deletes (tombstones), reactions, replies, threads, mutation keys, lifecycle entries',
    // Nullable columns without a default: PostgreSQL adds them to the catalog only, whatever the table's size.
    sql: (s) => `
      ALTER TABLE ${s}.messages
        ADD COLUMN edited_at bigint,
        ADD COLUMN version integer,
        ADD COLUMN deleted_at bigint,
        ADD COLUMN deleted_by text,
        ADD COLUMN reply_to bigint,
        ADD COLUMN thread_root bigint,
        ADD COLUMN thread_replies integer,
        ADD COLUMN thread_last_reply_at bigint,
        ADD COLUMN thread_last_reply_seq bigint;
      -- Thread pages walk the replies of one root in seq order; only replies are indexed.
      CREATE INDEX messages_by_thread ON ${s}.messages (channel_id, thread_root, seq) WHERE thread_root IS NOT NULL;

      -- A lifecycle entry's JSON (edited, deleted, reaction); NULL for a new message.
      ALTER TABLE ${s}.sync_log ADD COLUMN entry text;

      -- Who reacted comes back in user id order (bytewise, as in the other adapters).
      CREATE TABLE ${s}.reactions (
        channel_id text NOT NULL,
        seq bigint NOT NULL,
        emoji text COLLATE "C" NOT NULL,
        user_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (channel_id, seq, emoji, user_id)
      );

      CREATE TABLE ${s}.mutations (
        user_id text NOT NULL,
        client_id text NOT NULL,
        pos bigint NOT NULL,
        PRIMARY KEY (user_id, client_id)
      );
      ${LIFECYCLE_FUNCTIONS(s)}
    `,
  },
  {
    version: 7,
    description: 'moderation: blocks, bans, slow mode, slow-mode turns and reports, one JSON row per key',
    sql: (s) => `CREATE TABLE ${s}.moderation (
      key text COLLATE "C" PRIMARY KEY,
      record text NOT NULL
    );`,
  },
  {
    version: 8,
    description: 'append_group_alone: a group of lone sends as one autocommit statement (one round trip)',
    sql: APPEND_ALONE_FUNCTION,
  },
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** `"name"`: a validated schema name as an identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function inTransaction<T>(client: PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const value = await fn();
    await client.query('COMMIT');
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Creates the schema when missing and applies the missing steps, each in its own transaction with
 * the version bump. Every transaction first takes a transaction-scoped advisory lock keyed by the
 * schema name, so processes opening the same store at once run the steps one after another (and a
 * process that waited re-reads the version and skips what another one applied).
 * @throws NatterError STORE_VERSION_UNSUPPORTED when the stored version is newer than `migrations`.
 */
export async function migrate(
  pool: Pool,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
  target: number = migrations.at(-1)?.version ?? 0,
): Promise<void> {
  const s = quoteIdentifier(schema);
  const newest = migrations.at(-1)?.version ?? 0;
  const lock = (client: PoolClient) =>
    client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`natter-migrate:${schema}`]);
  const versionOf = async (client: PoolClient) =>
    (await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_version`)).rows[0]!.version;

  const client = await pool.connect();
  try {
    const current = await inTransaction(client, async () => {
      await lock(client);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.schema_version (
           singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
           version integer NOT NULL
         )`,
      );
      await client.query(`INSERT INTO ${s}.schema_version (version) VALUES (0) ON CONFLICT DO NOTHING`);
      return versionOf(client);
    });
    if (current > newest) {
      throw new NatterError(
        ErrorCode.STORE_VERSION_UNSUPPORTED,
        `store schema version ${current} is newer than this @natter/storage-postgres supports (${newest})`,
      );
    }
    for (const step of migrations) {
      if (step.version <= current || step.version > target) continue;
      await inTransaction(client, async () => {
        await lock(client);
        if ((await versionOf(client)) >= step.version) return;
        await client.query(step.sql(s));
        await client.query(`UPDATE ${s}.schema_version SET version = $1`, [step.version]);
      });
    }
  } finally {
    client.release();
  }
}

/** The stored schema version, or undefined when the schema has no version table. */
export async function schemaVersionOf(pool: Pool, schema: string): Promise<number | undefined> {
  const exists = await pool.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [
    `${quoteIdentifier(schema)}.schema_version`,
  ]);
  if (!exists.rows[0]!.found) return undefined;
  const { rows } = await pool.query<{ version: number }>(
    `SELECT version FROM ${quoteIdentifier(schema)}.schema_version`,
  );
  return rows[0]?.version;
}
