import { ErrorCode, NatterError } from '@natter/server-core';
import type Database from 'better-sqlite3';

/** One step of the schema history. Steps are never edited once released; new ones are appended. */
export interface Migration {
  /** The schema version this step produces: 1, 2, 3, ... in order. */
  version: number;
  /** Why the step exists. */
  description: string;
  /** SQL applied in one transaction together with the version bump. */
  sql: string;
}

/**
 * The schema history. The version lives in `PRAGMA user_version`, which is written in the same
 * transaction as the step, so a crash mid-migration leaves the previous version intact.
 * Every table is keyed by what its hot queries scan (WITHOUT ROWID clusters rows on that key):
 * messages by (channel_id, seq) and the sync log by (user_id, pos).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'accounts, channels, members, messages, sync log, idempotency keys, epoch',
    sql: `
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      -- The epoch is fixed when the store is created: a random id of this log's lifetime.
      INSERT INTO meta (key, value) VALUES ('epoch', lower(hex(randomblob(16))));

      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id, device_id);

      CREATE TABLE channels (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
        name TEXT,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        direct_key TEXT UNIQUE
      ) WITHOUT ROWID;

      CREATE TABLE members (
        channel_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
        joined_at INTEGER NOT NULL,
        joined_seq INTEGER NOT NULL,
        read_seq INTEGER NOT NULL,
        PRIMARY KEY (channel_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX members_by_user ON members (user_id, channel_id);

      CREATE TABLE messages (
        channel_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        client_msg_id TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('text', 'system')),
        text TEXT NOT NULL,
        mentions TEXT NOT NULL,
        system TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (channel_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE sync_heads (
        user_id TEXT PRIMARY KEY,
        head INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE sync_log (
        user_id TEXT NOT NULL,
        pos INTEGER NOT NULL,
        channel_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (user_id, pos)
      ) WITHOUT ROWID;

      CREATE TABLE client_msgs (
        sender_id TEXT NOT NULL,
        client_msg_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sender_pos INTEGER NOT NULL,
        PRIMARY KEY (sender_id, client_msg_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'channels.last_activity_at orders listChannelsOf by newest activity',
    sql: `
      ALTER TABLE channels ADD COLUMN last_activity_at INTEGER NOT NULL DEFAULT 0;
      UPDATE channels SET last_activity_at = coalesce(
        (SELECT m.created_at FROM messages m WHERE m.channel_id = channels.id ORDER BY m.seq DESC LIMIT 1),
        created_at
      );
    `,
  },
  {
    version: 3,
    description: 'contract v2: members.delivered_seq, the mentions index, full-text search of message text',
    sql: `
      ALTER TABLE members ADD COLUMN delivered_seq INTEGER NOT NULL DEFAULT 0;

      -- One row per (mentioned user, text message); mentionsOf walks it newest id first.
      CREATE TABLE mentions (
        user_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (user_id, message_id)
      ) WITHOUT ROWID;
      INSERT OR IGNORE INTO mentions (user_id, message_id, channel_id, seq)
        SELECT j.value, m.id, m.channel_id, m.seq
          FROM messages m, json_each(m.mentions) j
         WHERE m.kind = 'text';

      -- Contentless FTS5 index of text messages: the text lives only in messages (no second copy);
      -- channel_id and seq are stored beside the index (contentless_unindexed) to find the row again.
      -- Rows are removed with the 'delete' command and the original values (edits and deletes, schema 6).
      -- Diacritics are kept, as PostgreSQL's 'simple' configuration keeps them.
      CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, channel_id UNINDEXED, seq UNINDEXED,
        content = '', contentless_unindexed = 1, tokenize = 'unicode61 remove_diacritics 0'
      );
      INSERT INTO messages_fts (text, channel_id, seq)
        SELECT text, channel_id, seq FROM messages WHERE kind = 'text';
    `,
  },
  {
    version: 4,
    description: "a user's sync head is the last pos of their sync log (no separate head row to update)",
    sql: `
      -- Upserting a head row per recipient cost more than the sync-log insert itself; the head is now
      -- read from the (user_id, pos) primary key, which the insert touches anyway.
      DROP TABLE sync_heads;
    `,
  },
  {
    version: 5,
    description: 'users.deactivated_at: a user deactivated by the app backend (server API)',
    sql: `
      ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
    `,
  },
  {
    version: 6,
    description: 'contract v4: edits, deletes (tombstones), reactions, replies, threads, mutation keys',
    sql: `
      ALTER TABLE messages ADD COLUMN edited_at INTEGER;
      ALTER TABLE messages ADD COLUMN version INTEGER;
      ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
      ALTER TABLE messages ADD COLUMN deleted_by TEXT;
      ALTER TABLE messages ADD COLUMN reply_to INTEGER;
      ALTER TABLE messages ADD COLUMN thread_root INTEGER;
      ALTER TABLE messages ADD COLUMN thread_replies INTEGER;
      ALTER TABLE messages ADD COLUMN thread_last_reply_at INTEGER;
      ALTER TABLE messages ADD COLUMN thread_last_reply_seq INTEGER;
      -- Thread pages walk the replies of one root in seq order; only replies are indexed.
      CREATE INDEX messages_by_thread ON messages (channel_id, thread_root, seq) WHERE thread_root IS NOT NULL;

      -- A lifecycle entry's JSON (edited, deleted, reaction); NULL for a new message.
      ALTER TABLE sync_log ADD COLUMN entry TEXT;

      CREATE TABLE reactions (
        channel_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        emoji TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (channel_id, seq, emoji, user_id)
      ) WITHOUT ROWID;

      CREATE TABLE mutations (
        user_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        pos INTEGER NOT NULL,
        PRIMARY KEY (user_id, client_id)
      ) WITHOUT ROWID;

      -- A deleted message's tokens leave the full-text index at once instead of waiting for a merge.
      INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
    `,
  },
  {
    version: 7,
    description: 'session_revocations: logged-out sessions and users whose earlier tokens are refused',
    sql: `
      CREATE TABLE session_revocations (
        subject TEXT PRIMARY KEY,
        issued_before INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    description: "messages.attachments: each message's attachments (media metadata, JSON), null for none",
    sql: `
      ALTER TABLE messages ADD COLUMN attachments TEXT;
    `,
  },
  {
    version: 9,
    description: 'moderation: blocks, bans, slow mode, slow-mode turns and reports, one JSON row per key',
    sql: `
      CREATE TABLE moderation (
        key TEXT PRIMARY KEY,
        record TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** The schema version of an open database (0 for a new, empty file). */
export function schemaVersionOf(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings `db` to `target` (default: the newest version), applying each step of `migrations` in its
 * own transaction together with the version bump.
 * @throws NatterError STORE_VERSION_UNSUPPORTED when the file's schema is newer than the newest step.
 */
export function migrate(
  db: Database.Database,
  target: number = SCHEMA_VERSION,
  migrations: readonly Migration[] = MIGRATIONS,
): void {
  const newest = migrations.at(-1)?.version ?? 0;
  const current = schemaVersionOf(db);
  if (current > newest) {
    throw new NatterError(
      ErrorCode.STORE_VERSION_UNSUPPORTED,
      `store schema version ${current} is newer than this @natter/storage-sqlite supports (${newest})`,
    );
  }
  for (const step of migrations) {
    if (step.version <= current || step.version > target) continue;
    if (!Number.isInteger(step.version))
      throw new Error(`migration version ${step.version} is not an integer`);
    db.exec('BEGIN IMMEDIATE');
    try {
      // Re-read under the write lock: another process may have migrated meanwhile.
      if (schemaVersionOf(db) < step.version) {
        db.exec(step.sql);
        db.pragma(`user_version = ${step.version}`);
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
}
