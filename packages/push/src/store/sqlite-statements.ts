import type { PushSubscriptionInput } from '@natter/server-core';
import type Database from 'better-sqlite3';
import type { PushPayload, StoredSubscription } from '../notifier.js';
import type { PendingNotification, PushJob } from './push-store.js';

export interface PendingRow {
  user_id: string;
  channel_id: string;
  count: number;
  latest_seq: number;
  latest_message_id: string;
  latest_sender_id: string;
  latest_text: string | null;
  first_at: number;
  due_at: number;
}

export interface SubscriptionRow {
  user_id: string;
  device_id: string;
  data: string;
  registered_at: number;
}

export interface JobRow {
  id: string;
  device_id: string;
  user_id: string;
  channel_id: string;
  payload: string;
  attempts: number;
  due_at: number;
}

export const toPending = (r: PendingRow): PendingNotification => ({
  userId: r.user_id,
  channelId: r.channel_id,
  count: r.count,
  latestSeq: r.latest_seq,
  latestMessageId: r.latest_message_id,
  latestSenderId: r.latest_sender_id,
  latestText: r.latest_text,
  firstAt: r.first_at,
  dueAt: r.due_at,
});

export const toSubscription = (r: SubscriptionRow): StoredSubscription => ({
  userId: r.user_id,
  deviceId: r.device_id,
  subscription: JSON.parse(r.data) as PushSubscriptionInput,
  registeredAt: r.registered_at,
});

export const toJob = (r: JobRow): PushJob => ({
  id: r.id,
  deviceId: r.device_id,
  userId: r.user_id,
  channelId: r.channel_id,
  payload: JSON.parse(r.payload) as PushPayload,
  attempts: r.attempts,
  dueAt: r.due_at,
});

/** The statements of the push store. */
export interface Statements {
  putSubscription: Database.Statement<unknown[]>;
  removeByKey: Database.Statement<unknown[]>;
  removeDevice: Database.Statement<unknown[]>;
  removeUser: Database.Statement<unknown[]>;
  removeIfUnchanged: Database.Statement<unknown[]>;
  subscription: Database.Statement<unknown[]>;
  subscriptionsOf: Database.Statement<unknown[]>;
  hasSubscription: Database.Statement<unknown[]>;
  mute: Database.Statement<unknown[]>;
  unmute: Database.Statement<unknown[]>;
  isMuted: Database.Statement<unknown[]>;
  collapse: Database.Statement<unknown[]>;
  enqueue: Database.Statement<[EnqueueParams]>;
  pending: Database.Statement<unknown[]>;
  duePending: Database.Statement<unknown[]>;
  claimPending: Database.Statement<unknown[]>;
  releasePending: Database.Statement<unknown[]>;
  releaseAll: Database.Statement<unknown[]>;
  postpone: Database.Statement<unknown[]>;
  dropPending: Database.Statement<unknown[]>;
  dropPendingOf: Database.Statement<unknown[]>;
  dropDeletedOnly: Database.Statement<[DeletedParams]>;
  shrinkDeleted: Database.Statement<[DeletedParams]>;
  setCollapse: Database.Statement<unknown[]>;
  claimReactionWindow: Database.Statement<unknown[]>;
  purgeReactionWindows: Database.Statement<unknown[]>;
  insertJob: Database.Statement<unknown[]>;
  dueJobs: Database.Statement<unknown[]>;
  claimJob: Database.Statement<unknown[]>;
  releaseAllJobs: Database.Statement<unknown[]>;
  finishJob: Database.Statement<unknown[]>;
  retryJob: Database.Statement<unknown[]>;
  purgeJobs: Database.Statement<unknown[]>;
  purgeCollapse: Database.Statement<unknown[]>;
  countPending: Database.Statement<unknown[]>;
  countJobs: Database.Statement<unknown[]>;
}

/** Parameters of the pending upsert. */
export interface EnqueueParams {
  userId: string;
  channelId: string;
  seq: number;
  messageId: string;
  senderId: string;
  text: string | null;
  now: number;
  dueAt: number;
}

/** Parameters of the statements that take a deleted message out of owed notifications. */
export interface DeletedParams {
  channelId: string;
  seq: number;
  senderId: string;
}

/** Owed notifications of a channel that count message `@seq` (not the sender's own). */
const COUNTING = `channel_id = @channelId AND user_id <> @senderId
  AND @seq BETWEEN coalesce(first_seq, latest_seq) AND latest_seq`;

/** Every statement the push store runs, prepared once. */
export function prepareStatements(db: Database.Database): Statements {
  const s = (sql: string): Database.Statement<unknown[]> => db.prepare(sql);
  return {
    putSubscription: s(
      `INSERT INTO subscriptions (user_id, device_id, kind, key, data, registered_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, device_id) DO UPDATE SET
         kind = excluded.kind, key = excluded.key, data = excluded.data, registered_at = excluded.registered_at`,
    ),
    removeByKey: s(
      'DELETE FROM subscriptions WHERE kind = ? AND key = ? AND NOT (user_id = ? AND device_id = ?)',
    ),
    removeDevice: s('DELETE FROM subscriptions WHERE user_id = ? AND device_id = ?'),
    removeUser: s('DELETE FROM subscriptions WHERE user_id = ?'),
    removeIfUnchanged: s('DELETE FROM subscriptions WHERE user_id = ? AND device_id = ? AND key = ?'),
    subscription: s('SELECT * FROM subscriptions WHERE user_id = ? AND device_id = ?'),
    subscriptionsOf: s('SELECT * FROM subscriptions WHERE user_id = ? ORDER BY device_id'),
    hasSubscription: s('SELECT 1 FROM subscriptions WHERE user_id = ? LIMIT 1'),
    mute: s('INSERT OR IGNORE INTO mutes (user_id, channel_id) VALUES (?, ?)'),
    unmute: s('DELETE FROM mutes WHERE user_id = ? AND channel_id = ?'),
    isMuted: s('SELECT 1 FROM mutes WHERE user_id = ? AND channel_id = ?'),
    collapse: s('SELECT last_sent_at, last_seq FROM collapse WHERE user_id = ? AND channel_id = ?'),
    // Column names in DO UPDATE refer to the row before the update; only a newer seq counts, so an
    // entry delivered twice is counted once.
    enqueue: db.prepare<EnqueueParams>(
      `INSERT INTO pending (user_id, channel_id, count, latest_seq, latest_message_id, latest_sender_id,
         latest_text, first_at, due_at, first_seq)
       VALUES (@userId, @channelId, 1, @seq, @messageId, @senderId, @text, @now, @dueAt, @seq)
       ON CONFLICT (user_id, channel_id) DO UPDATE SET
         count = count + (excluded.latest_seq > latest_seq),
         latest_message_id = IIF(excluded.latest_seq > latest_seq, excluded.latest_message_id, latest_message_id),
         latest_sender_id = IIF(excluded.latest_seq > latest_seq, excluded.latest_sender_id, latest_sender_id),
         latest_text = IIF(excluded.latest_seq > latest_seq, excluded.latest_text, latest_text),
         latest_seq = MAX(latest_seq, excluded.latest_seq)`,
    ),
    pending: s('SELECT * FROM pending WHERE user_id = ? AND channel_id = ?'),
    duePending: s(
      `SELECT * FROM pending WHERE due_at <= @now AND (claimed_until IS NULL OR claimed_until <= @now)
       ORDER BY due_at LIMIT @limit`,
    ),
    claimPending: s('UPDATE pending SET claimed_until = ? WHERE user_id = ? AND channel_id = ?'),
    releasePending: s('UPDATE pending SET claimed_until = NULL WHERE user_id = ? AND channel_id = ?'),
    releaseAll: s('UPDATE pending SET claimed_until = NULL WHERE claimed_until IS NOT NULL'),
    postpone: s('UPDATE pending SET due_at = ?, claimed_until = NULL WHERE user_id = ? AND channel_id = ?'),
    dropPending: s('DELETE FROM pending WHERE user_id = ? AND channel_id = ? AND latest_seq <= ?'),
    dropPendingOf: s('DELETE FROM pending WHERE user_id = ? AND channel_id = ?'),
    dropDeletedOnly: db.prepare<[DeletedParams]>(`DELETE FROM pending WHERE ${COUNTING} AND count <= 1`),
    // The oldest counted seq only rises (the next counted one is above it); a deleted newest takes the preview.
    shrinkDeleted: db.prepare<[DeletedParams]>(
      `UPDATE pending SET count = count - 1,
         first_seq = IIF(coalesce(first_seq, latest_seq) = @seq, @seq + 1, first_seq),
         latest_text = IIF(latest_seq = @seq, NULL, latest_text)
       WHERE ${COUNTING} AND count > 1`,
    ),
    setCollapse: s(
      `INSERT INTO collapse (user_id, channel_id, last_sent_at, last_seq) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, channel_id) DO UPDATE SET last_sent_at = excluded.last_sent_at,
         last_seq = MAX(last_seq, excluded.last_seq)`,
    ),
    // Takes the (user, channel) reaction window when it is free: a row comes back only then.
    claimReactionWindow: s(
      `INSERT INTO reaction_sent (user_id, channel_id, last_sent_at) VALUES (@userId, @channelId, @now)
       ON CONFLICT (user_id, channel_id) DO UPDATE SET last_sent_at = excluded.last_sent_at
         WHERE last_sent_at + @collapseMs <= excluded.last_sent_at
       RETURNING 1`,
    ),
    purgeReactionWindows: s('DELETE FROM reaction_sent WHERE last_sent_at < ?'),
    insertJob: s(
      `INSERT INTO jobs (id, device_id, user_id, channel_id, payload, attempts, due_at, created_at)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
    ),
    dueJobs: s(
      `SELECT * FROM jobs WHERE sent_at IS NULL AND due_at <= @now
         AND (claimed_until IS NULL OR claimed_until <= @now)
       ORDER BY due_at LIMIT @limit`,
    ),
    claimJob: s('UPDATE jobs SET claimed_until = ? WHERE id = ? AND device_id = ?'),
    releaseAllJobs: s('UPDATE jobs SET claimed_until = NULL WHERE claimed_until IS NOT NULL'),
    finishJob: s(
      'UPDATE jobs SET sent_at = ?, outcome = ?, attempts = ? WHERE id = ? AND device_id = ? AND sent_at IS NULL',
    ),
    retryJob: s(
      `UPDATE jobs SET attempts = ?, due_at = ?, claimed_until = NULL
       WHERE id = ? AND device_id = ? AND sent_at IS NULL`,
    ),
    purgeJobs: s('DELETE FROM jobs WHERE sent_at IS NOT NULL AND sent_at < ?'),
    purgeCollapse: s('DELETE FROM collapse WHERE last_sent_at < ?'),
    countPending: s('SELECT COUNT(*) AS n FROM pending'),
    countJobs: s('SELECT COUNT(*) AS n FROM jobs WHERE sent_at IS NULL'),
  };
}
