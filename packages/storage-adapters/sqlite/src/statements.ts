import type Database from 'better-sqlite3';
import type { ChannelMemberRow, ChannelRow, MemberRow, MessageRow, TokenRow, UserRow } from './rows.js';

type Db = Database.Database;

/**
 * The part of a better-sqlite3 prepared statement the adapter uses: parameters `P`, rows `R`.
 * Declared here (not taken from @types/better-sqlite3, whose namespace cannot be named in
 * declaration files) so the statement bundles' types can be emitted.
 */
export interface Statement<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** `db.prepare` typed with the named {@link Statement} alias (so declaration files can refer to it). */
const preparer =
  (db: Db) =>
  <P extends unknown[], R = unknown>(sql: string): Statement<P, R> =>
    db.prepare<P, R>(sql);

const USER_COLUMNS = 'id, username, display_name, password_hash, created_at, deactivated_at';
const CHANNEL_COLUMNS = 'id, kind, name, created_by, created_at, last_seq, direct_key';
const MEMBER_COLUMNS = 'channel_id, user_id, role, joined_at, joined_seq, read_seq, delivered_seq';
/** The columns a new message is inserted with. */
const MESSAGE_INSERT_COLUMNS =
  'channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions, system, created_at, attachments';
/** Every column of a message row, lifecycle columns included. */
const MESSAGE_COLUMNS = `${MESSAGE_INSERT_COLUMNS}, edited_at, version, deleted_at, deleted_by, reply_to, thread_root, thread_replies, thread_last_reply_at, thread_last_reply_seq`;
/** `cols` with each column prefixed by `alias.`. */
const prefixed = (alias: string, cols: string) =>
  cols
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

/** Named parameters of the visibility-limited reads (mentions, search). */
export interface VisibleQuery {
  userId: string;
  beforeId: string | null;
  channelId: string | null;
  limit: number;
}

/** Largest seq or pos, as an open upper bound of a range. */
export const MAX_POSITION = Number.MAX_SAFE_INTEGER;

/**
 * The reads, prepared once per connection. The read-only connection serves reads outside `write()`;
 * the write connection has its own copy, so reads inside a write see the write's own changes.
 */
export function prepareReads(db: Db) {
  const prepare = preparer(db);
  return {
    epoch: prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'epoch'"),
    moderationRow: prepare<[string], { record: string }>('SELECT record FROM moderation WHERE key = ?'),
    // Keys are ASCII below 0x7f, so `prefix || 0x7f` bounds the prefix's range (an index range, no scan).
    moderationRange: prepare<[string, string, string, number], { key: string; record: string }>(
      'SELECT key, record FROM moderation WHERE key >= ? AND key > ? AND key < ? ORDER BY key LIMIT ?',
    ),
    revocation: prepare<[string, number], { issued_before: number }>(
      'SELECT issued_before FROM session_revocations WHERE subject = ? AND expires_at > ?',
    ),
    userById: prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    usersByIds: prepare<[string], UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?))`,
    ),
    userByUsername: prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`),
    // Usernames with a prefix form one contiguous run from the prefix on (binary collation), so the
    // caller keeps the leading rows that match; no LIKE, so `%` and `_` stay literal.
    usersFrom: prepare<[string, number], UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE username >= ? ORDER BY username LIMIT ?`,
    ),
    channel: prepare<[string], ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM channels WHERE id = ?`),
    directChannel: prepare<[string], ChannelRow>(
      `SELECT ${CHANNEL_COLUMNS} FROM channels WHERE direct_key = ?`,
    ),
    member: prepare<[string, string], MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM members WHERE channel_id = ? AND user_id = ?`,
    ),
    members: prepare<[string], MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM members WHERE channel_id = ? ORDER BY user_id`,
    ),
    /** Only the ids: what a send needs, read from the primary key alone. */
    memberIds: prepare<[string], { user_id: string }>(
      'SELECT user_id FROM members WHERE channel_id = ? ORDER BY user_id',
    ),
    channelsOf: prepare<[string], ChannelMemberRow>(
      `SELECT c.id, c.kind, c.name, c.created_by, c.created_at, c.last_seq, c.direct_key,
              m.role AS m_role, m.joined_at AS m_joined_at, m.joined_seq AS m_joined_seq, m.read_seq AS m_read_seq,
              m.delivered_seq AS m_delivered_seq
         FROM members m JOIN channels c ON c.id = m.channel_id
        WHERE m.user_id = ?
        ORDER BY c.last_activity_at DESC, c.created_at DESC, c.id`,
    ),
    message: prepare<[string, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND seq = ?`,
    ),
    /** Messages with `from <= seq <= to`, ascending, at most `limit`. */
    rangeAscending: prepare<[string, number, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`,
    ),
    /** Messages with `from <= seq <= to`, descending, at most `limit`. */
    rangeDescending: prepare<[string, number, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND seq >= ? AND seq <= ? ORDER BY seq DESC LIMIT ?`,
    ),
    anyInRange: prepare<[string, number, number], { found: 0 | 1 }>(
      'SELECT EXISTS (SELECT 1 FROM messages WHERE channel_id = ? AND seq >= ? AND seq <= ?) AS found',
    ),
    // Deleted messages do not count, nor thread replies unless they mention the reader (issue 24).
    countUnread: prepare<[string, number, string, string], { n: number }>(
      `SELECT count(*) AS n FROM messages WHERE channel_id = ? AND seq > ? AND kind = 'text' AND sender_id <> ?
          AND deleted_at IS NULL
          AND (thread_root IS NULL OR EXISTS (SELECT 1 FROM json_each(mentions) WHERE value = ?))`,
    ),
    threadAscending: prepare<[string, number, number, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND thread_root = ? AND seq >= ? AND seq <= ?
        ORDER BY seq LIMIT ?`,
    ),
    threadDescending: prepare<[string, number, number, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND thread_root = ? AND seq >= ? AND seq <= ?
        ORDER BY seq DESC LIMIT ?`,
    ),
    reactionsOf: prepare<[string, string, string], { seq: number; emoji: string; n: number; me: 0 | 1 }>(
      `SELECT seq, emoji, count(*) AS n, max(user_id = ?) AS me FROM reactions
        WHERE channel_id = ? AND seq IN (SELECT value FROM json_each(?))
        GROUP BY seq, emoji`,
    ),
    reactorsOf: prepare<[string, number, string, string, number], { user_id: string }>(
      `SELECT user_id FROM reactions WHERE channel_id = ? AND seq = ? AND emoji = ? AND user_id > ?
        ORDER BY user_id LIMIT ?`,
    ),
    mentionsOf: prepare<[VisibleQuery], MessageRow>(
      `SELECT ${prefixed('m', MESSAGE_COLUMNS)}
         FROM mentions x
         JOIN members mb ON mb.channel_id = x.channel_id AND mb.user_id = x.user_id
         JOIN messages m ON m.channel_id = x.channel_id AND m.seq = x.seq
        WHERE x.user_id = @userId AND x.seq >= mb.joined_seq
          AND (@beforeId IS NULL OR x.message_id < @beforeId)
          AND (@channelId IS NULL OR x.channel_id = @channelId)
        ORDER BY x.message_id DESC LIMIT @limit`,
    ),
    /** `@match` is an FTS5 query built by `ftsQuery` (quoted words only). */
    searchMessages: prepare<[VisibleQuery & { match: string }], MessageRow>(
      `SELECT ${prefixed('m', MESSAGE_COLUMNS)}
         FROM messages_fts f
         JOIN members mb ON mb.channel_id = f.channel_id AND mb.user_id = @userId
         JOIN messages m ON m.channel_id = f.channel_id AND m.seq = f.seq
        WHERE f.messages_fts MATCH @match AND f.seq >= mb.joined_seq
          AND (@beforeId IS NULL OR m.id < @beforeId)
          AND (@channelId IS NULL OR f.channel_id = @channelId)
        ORDER BY m.id DESC LIMIT @limit`,
    ),
    syncHead: prepare<[string], { head: number }>(
      'SELECT coalesce(max(pos), 0) AS head FROM sync_log WHERE user_id = ?',
    ),
    syncAfter: prepare<[string, number, number], MessageRow & { pos: number; entry: string | null }>(
      `SELECT s.pos, s.entry, ${prefixed('m', MESSAGE_COLUMNS)}
         FROM sync_log s JOIN messages m ON m.channel_id = s.channel_id AND m.seq = s.seq
        WHERE s.user_id = ? AND s.pos > ?
        ORDER BY s.pos LIMIT ?`,
    ),
    clientMsg: prepare<[string, string], MessageRow & { sender_pos: number }>(
      `SELECT c.sender_pos, ${prefixed('m', MESSAGE_COLUMNS)}
         FROM client_msgs c JOIN messages m ON m.channel_id = c.channel_id AND m.seq = c.seq
        WHERE c.sender_id = ? AND c.client_msg_id = ?`,
    ),
  };
}

/** Read statements of one connection. */
export type ReadStatements = ReturnType<typeof prepareReads>;

/** The writes, prepared once on the write connection; only the writer loop runs them. */
export function prepareWrites(db: Db) {
  const prepare = preparer(db);
  return {
    insertUser: prepare<[string, string, string, string | null, number, number | null]>(
      `INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    // The third and fourth parameters: whether to set deactivated_at, and to what (NULL reactivates).
    updateUser: prepare<[string | null, string | null, number, number | null, string], UserRow>(
      `UPDATE users SET display_name = coalesce(?, display_name), password_hash = coalesce(?, password_hash),
        deactivated_at = CASE WHEN ? THEN ? ELSE deactivated_at END
        WHERE id = ? RETURNING ${USER_COLUMNS}`,
    ),
    saveToken: prepare<[string, string, string, number]>(
      'INSERT OR REPLACE INTO refresh_tokens (token_hash, user_id, device_id, expires_at) VALUES (?, ?, ?, ?)',
    ),
    takeToken: prepare<[string], TokenRow>(
      'DELETE FROM refresh_tokens WHERE token_hash = ? RETURNING token_hash, user_id, device_id, expires_at',
    ),
    revokeUserTokens: prepare<[string]>('DELETE FROM refresh_tokens WHERE user_id = ?'),
    // A revocation never shrinks: a subject revoked again keeps the later bound and the later expiry.
    addRevocation: prepare<[string, number, number]>(
      `INSERT INTO session_revocations (subject, issued_before, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (subject) DO UPDATE SET
         issued_before = max(issued_before, excluded.issued_before),
         expires_at = max(expires_at, excluded.expires_at)`,
    ),
    dropExpiredRevocations: prepare<[number]>('DELETE FROM session_revocations WHERE expires_at <= ?'),
    putModeration: prepare<[string, string]>('INSERT OR REPLACE INTO moderation (key, record) VALUES (?, ?)'),
    deleteModeration: prepare<[string]>('DELETE FROM moderation WHERE key = ?'),
    revokeDeviceTokens: prepare<[string, string]>(
      'DELETE FROM refresh_tokens WHERE user_id = ? AND device_id = ?',
    ),
    insertChannel: prepare<[string, string, string | null, string, number, string | null, number]>(
      `INSERT INTO channels (id, kind, name, created_by, created_at, direct_key, last_activity_at, last_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
    ),
    renameChannel: prepare<[string, string]>('UPDATE channels SET name = ? WHERE id = ?'),
    upsertMember: prepare<[string, string, string, number, number, number, number]>(
      `INSERT INTO members (${MEMBER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (channel_id, user_id) DO UPDATE SET
         role = excluded.role, joined_at = excluded.joined_at, joined_seq = excluded.joined_seq,
         read_seq = excluded.read_seq, delivered_seq = excluded.delivered_seq`,
    ),
    deleteMember: prepare<[string, string]>('DELETE FROM members WHERE channel_id = ? AND user_id = ?'),
    raiseReadMarker: prepare<[number, string, string], { read_seq: number }>(
      'UPDATE members SET read_seq = max(read_seq, ?) WHERE channel_id = ? AND user_id = ? RETURNING read_seq',
    ),
    raiseDeliveredMarker: prepare<[number, string, string], { delivered_seq: number }>(
      `UPDATE members SET delivered_seq = max(delivered_seq, ?) WHERE channel_id = ? AND user_id = ?
       RETURNING delivered_seq`,
    ),
    lastSeq: prepare<[string], { last_seq: number }>('SELECT last_seq FROM channels WHERE id = ?'),
    setLastSeq: prepare<[number, number, string]>(
      'UPDATE channels SET last_seq = ?, last_activity_at = ? WHERE id = ?',
    ),
    syncHead: prepare<[string], { head: number }>(
      'SELECT coalesce(max(pos), 0) AS head FROM sync_log WHERE user_id = ?',
    ),
    insertMessage: prepare<
      [
        string,
        number,
        string,
        string,
        string | null,
        string,
        string,
        string,
        string | null,
        number,
        string | null,
      ]
    >(`INSERT INTO messages (${MESSAGE_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertSyncEntry: prepare<[string, number, string, number]>(
      'INSERT INTO sync_log (user_id, pos, channel_id, seq) VALUES (?, ?, ?, ?)',
    ),
    insertClientMsg: prepare<[string, string, string, number, number]>(
      'INSERT INTO client_msgs (sender_id, client_msg_id, channel_id, seq, sender_pos) VALUES (?, ?, ?, ?, ?)',
    ),
    insertMention: prepare<[string, string, string, number]>(
      'INSERT OR IGNORE INTO mentions (user_id, message_id, channel_id, seq) VALUES (?, ?, ?, ?)',
    ),
    insertSearchText: prepare<[string, string, number]>(
      'INSERT INTO messages_fts (text, channel_id, seq) VALUES (?, ?, ?)',
    ),
    // Lifecycle (schema 6).
    setReferences: prepare<[number | null, number | null, string, number]>(
      'UPDATE messages SET reply_to = ?, thread_root = ? WHERE channel_id = ? AND seq = ?',
    ),
    editMessage: prepare<[string, string, number, number, string, number]>(
      'UPDATE messages SET text = ?, mentions = ?, edited_at = ?, version = ? WHERE channel_id = ? AND seq = ?',
    ),
    eraseMessage: prepare<[number, string, string, number]>(
      `UPDATE messages SET text = '', mentions = '[]', attachments = NULL, edited_at = NULL, version = NULL,
              deleted_at = ?, deleted_by = ?
        WHERE channel_id = ? AND seq = ?`,
    ),
    countThreadReply: prepare<[number, number, string, number]>(
      `UPDATE messages SET thread_replies = coalesce(thread_replies, 0) + 1, thread_last_reply_at = ?,
              thread_last_reply_seq = ?
        WHERE channel_id = ? AND seq = ?`,
    ),
    deleteMentions: prepare<[string, string, number]>(
      'DELETE FROM mentions WHERE message_id = ? AND channel_id = ? AND seq = ? ',
    ),
    /** The FTS rows of a message; `@match` narrows the scan to rows holding its words. */
    searchRowsOf: prepare<[{ match: string; channelId: string; seq: number }], { rowid: number }>(
      `SELECT rowid FROM messages_fts WHERE messages_fts MATCH @match AND channel_id = @channelId AND seq = @seq`,
    ),
    searchRowsScan: prepare<[string, number], { rowid: number }>(
      'SELECT rowid FROM messages_fts WHERE channel_id = ? AND seq = ?',
    ),
    // A contentless table forgets a row only when told its original values.
    deleteSearchText: prepare<[number, string, string, number]>(
      `INSERT INTO messages_fts (messages_fts, rowid, text, channel_id, seq) VALUES ('delete', ?, ?, ?, ?)`,
    ),
    addReaction: prepare<[string, number, string, string]>(
      'INSERT OR IGNORE INTO reactions (channel_id, seq, emoji, user_id) VALUES (?, ?, ?, ?)',
    ),
    removeReaction: prepare<[string, number, string, string]>(
      'DELETE FROM reactions WHERE channel_id = ? AND seq = ? AND emoji = ? AND user_id = ?',
    ),
    removeReactions: prepare<[string, number]>('DELETE FROM reactions WHERE channel_id = ? AND seq = ?'),
    reactionEmojis: prepare<[string, number], { emoji: string }>(
      'SELECT DISTINCT emoji FROM reactions WHERE channel_id = ? AND seq = ?',
    ),
    insertLifecycleEntry: prepare<[string, number, string, number, string]>(
      'INSERT INTO sync_log (user_id, pos, channel_id, seq, entry) VALUES (?, ?, ?, ?, ?)',
    ),
    findMutation: prepare<[string, string], { pos: number }>(
      'SELECT pos FROM mutations WHERE user_id = ? AND client_id = ?',
    ),
    recordMutation: prepare<[string, string, number]>(
      'INSERT INTO mutations (user_id, client_id, pos) VALUES (?, ?, ?)',
    ),
  };
}

/** Write statements of the write connection. */
export type WriteStatements = ReturnType<typeof prepareWrites>;
