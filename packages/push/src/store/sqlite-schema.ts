import { ErrorCode, NatterError } from '@natter/server-core';
import type Database from 'better-sqlite3';

/** Version of the push store's schema (`PRAGMA user_version`). */
export const SCHEMA_VERSION = 3;

const V1 = `
-- One subscription per device. \`key\` is the Web Push endpoint or the webhook token: one browser or one
-- app install is registered once, whoever registered it last (no duplicate pushes, no pushes to the
-- previous user of a shared browser).
CREATE TABLE subscriptions (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  data TEXT NOT NULL,
  registered_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, device_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX subscriptions_key ON subscriptions (kind, key);

CREATE TABLE mutes (
  user_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;

-- Owed notifications, collapsed per (user, channel): written in onDeliveries, so they are durable the
-- moment the message is committed. latest_text is stored only when the app opted into content.
CREATE TABLE pending (
  user_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  count INTEGER NOT NULL,
  latest_seq INTEGER NOT NULL,
  latest_message_id TEXT NOT NULL,
  latest_sender_id TEXT NOT NULL,
  latest_text TEXT,
  first_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX pending_due ON pending (due_at);

-- When each (user, channel) was last notified, and up to which seq: the collapse window and a guard
-- against counting an entry twice.
CREATE TABLE collapse (
  user_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  last_sent_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;

-- One row per notification per device. sent_at and outcome are set in the transaction that records the
-- outcome, so a restart never sends a finished row again. Finished rows are purged after a while.
CREATE TABLE jobs (
  id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  outcome TEXT,
  PRIMARY KEY (id, device_id)
) WITHOUT ROWID;
CREATE INDEX jobs_due ON jobs (due_at) WHERE sent_at IS NULL;
CREATE INDEX jobs_finished ON jobs (sent_at) WHERE sent_at IS NOT NULL;
`;

/**
 * Claims (`claimed_until`): a due row handed to a worker is hidden from other claims until then, and
 * released when the worker settles it. One process owns the file, so `open()` releases every claim left by
 * a previous run that crashed.
 */
const V2 = `
ALTER TABLE pending ADD COLUMN claimed_until INTEGER;
ALTER TABLE jobs ADD COLUMN claimed_until INTEGER;
`;

/**
 * `first_seq`: the oldest message an owed notification counts, so a deleted message can be taken out of it
 * (counted messages are those from `first_seq` to `latest_seq` not sent by the user). NULL on rows written
 * before: only their newest message is known to be counted. The channel index finds a deleted message's rows.
 * `reaction_sent`: the collapse window of reaction notifications.
 */
const V3 = `
ALTER TABLE pending ADD COLUMN first_seq INTEGER;
CREATE INDEX pending_by_channel ON pending (channel_id);

-- When a reaction notification of each (author, channel) was last queued (notifyReactions' collapse window).
CREATE TABLE reaction_sent (
  user_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  last_sent_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;
`;

/** Creates or upgrades the schema; refuses a file written by a newer version. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new NatterError(
      ErrorCode.STORE_VERSION_UNSUPPORTED,
      `push store schema version ${version} is newer than this @natter/push supports (${SCHEMA_VERSION})`,
    );
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    if (version < 1) db.exec(V1);
    if (version < 2) db.exec(V2);
    if (version < 3) db.exec(V3);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
