import { createHash } from 'node:crypto';
import type { SynchronousCommit } from './options.js';
import { quoteIdentifier } from './schema/migrations.js';

/** First key of the moderation key locks (two-key form): "natm", apart from the store's write lock. */
const MODERATION_LOCK_CLASS = 0x6e61746d;

const USER_COLUMNS = 'id, username, display_name, password_hash, created_at, deactivated_at';
export const CHANNEL_COLUMNS = 'id, kind, name, created_by, created_at, last_seq, direct_key';
const MEMBER_COLUMNS = 'channel_id, user_id, role, joined_at, joined_seq, read_seq, delivered_seq';
/** Every column of a message row, lifecycle columns (schema 6) included. */
export const MESSAGE_COLUMNS =
  'channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions, system, created_at, attachments, ' +
  'edited_at, version, deleted_at, deleted_by, reply_to, thread_root, thread_replies, thread_last_reply_at, ' +
  'thread_last_reply_seq';

/** `cols` with each column prefixed by `alias.`. */
const prefixed = (alias: string, cols: string) =>
  cols
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

/** A statement prepared once per connection under its name (pg's named statements). */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/**
 * Every SQL statement of the adapter, for one schema, as named statements: each connection parses
 * one once and from then on only binds values. Values are always `$n` parameters; the schema name,
 * validated by the options, is the only text put into the SQL. Names are per pool, and each adapter
 * has its own pool, so two schemas never share a name on one connection.
 */
export function statements(schema: string): {
  readonly [K in keyof ReturnType<typeof texts>]: NamedStatement;
} {
  const all = texts(schema);
  return Object.fromEntries(
    Object.entries(all).map(([key, text]) => [key, { name: `natter_${key}`, text }]),
  ) as { [K in keyof typeof all]: NamedStatement };
}

function texts(schema: string) {
  const s = quoteIdentifier(schema);
  const m = prefixed('m', MESSAGE_COLUMNS);
  return {
    epochInit: `INSERT INTO ${s}.meta (key, value) VALUES ('epoch', $1) ON CONFLICT (key) DO NOTHING`,
    epoch: `SELECT value FROM ${s}.meta WHERE key = 'epoch'`,

    // Accounts.
    insertUser: `INSERT INTO ${s}.users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
    userById: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE id = $1`,
    usersByIds: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE id = ANY($1::text[])`,
    userByUsername: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE username = $1`,
    // Usernames with a prefix are one run of the ("C"-collated) index from the prefix on; the caller
    // keeps the leading rows that match. No LIKE, so `%` and `_` stay literal.
    usersFrom: `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE username >= $1 ORDER BY username LIMIT $2`,
    // $3 says whether to set deactivated_at at all; $4 is its new value (NULL reactivates).
    updateUser: `UPDATE ${s}.users SET display_name = coalesce($1, display_name),
                   password_hash = coalesce($2, password_hash),
                   deactivated_at = CASE WHEN $3::boolean THEN $4::bigint ELSE deactivated_at END
                 WHERE id = $5 RETURNING ${USER_COLUMNS}`,
    saveToken: `INSERT INTO ${s}.refresh_tokens (token_hash, user_id, device_id, expires_at)
                VALUES ($1, $2, $3, $4)
                ON CONFLICT (token_hash) DO UPDATE SET user_id = excluded.user_id,
                  device_id = excluded.device_id, expires_at = excluded.expires_at`,
    takeToken: `DELETE FROM ${s}.refresh_tokens WHERE token_hash = $1
                RETURNING token_hash, user_id, device_id, expires_at`,
    revokeUserTokens: `DELETE FROM ${s}.refresh_tokens WHERE user_id = $1`,
    revokeDeviceTokens: `DELETE FROM ${s}.refresh_tokens WHERE user_id = $1 AND device_id = $2`,
    dropExpiredRevocations: `DELETE FROM ${s}.session_revocations WHERE expires_at <= $1`,
    // A revocation never shrinks: a subject revoked again keeps the later bound and the later expiry.
    addRevocation: `INSERT INTO ${s}.session_revocations (subject, issued_before, expires_at)
                    VALUES ($1, $2, $3)
                    ON CONFLICT (subject) DO UPDATE SET
                      issued_before = greatest(${s}.session_revocations.issued_before, excluded.issued_before),
                      expires_at = greatest(${s}.session_revocations.expires_at, excluded.expires_at)`,
    revokedBefore: `SELECT coalesce(max(issued_before), 0) AS before FROM ${s}.session_revocations
                    WHERE subject = ANY($1::text[]) AND expires_at > $2`,

    // Channel and member reads (outside and inside writes).
    channel: `SELECT ${CHANNEL_COLUMNS} FROM ${s}.channels WHERE id = $1`,
    directChannel: `SELECT ${CHANNEL_COLUMNS} FROM ${s}.channels WHERE direct_key = $1`,
    member: `SELECT ${MEMBER_COLUMNS} FROM ${s}.members WHERE channel_id = $1 AND user_id = $2`,
    members: `SELECT ${MEMBER_COLUMNS} FROM ${s}.members WHERE channel_id = $1 ORDER BY user_id`,
    channelsOf: `SELECT c.id, c.kind, c.name, c.created_by, c.created_at, c.last_seq, c.direct_key,
                        mb.role AS m_role, mb.joined_at AS m_joined_at, mb.joined_seq AS m_joined_seq,
                        mb.read_seq AS m_read_seq, mb.delivered_seq AS m_delivered_seq
                   FROM ${s}.members mb JOIN ${s}.channels c ON c.id = mb.channel_id
                  WHERE mb.user_id = $1
                  ORDER BY c.last_activity_at DESC, c.created_at DESC, c.id COLLATE "C"`,

    // Message reads.
    lastSeq: `SELECT last_seq FROM ${s}.channels WHERE id = $1`,
    message: `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages WHERE channel_id = $1 AND seq = $2`,
    /** Messages with `$2 <= seq <= $3`, ascending. */
    range: `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages WHERE channel_id = $1 AND seq BETWEEN $2 AND $3
             ORDER BY seq`,
    // Deleted messages do not count, nor thread replies unless they mention the reader (issue 24).
    countUnread: `SELECT count(*)::int AS n FROM ${s}.messages
                   WHERE channel_id = $1 AND seq > $2 AND kind = 'text' AND sender_id <> $3
                     AND deleted_at IS NULL
                     AND (thread_root IS NULL OR mentions::jsonb ? $3)`,
    /** $1 user, $2 beforeId or null, $3 channelId or null, $4 limit. */
    mentionsOf: `SELECT ${m}
                   FROM ${s}.mentions x
                   JOIN ${s}.members mb ON mb.channel_id = x.channel_id AND mb.user_id = x.user_id
                   JOIN ${s}.messages m ON m.channel_id = x.channel_id AND m.seq = x.seq
                  WHERE x.user_id = $1 AND x.seq >= mb.joined_seq
                    AND ($2::text IS NULL OR x.message_id < $2::text)
                    AND ($3::text IS NULL OR x.channel_id = $3::text)
                  ORDER BY x.message_id DESC LIMIT $4`,
    /**
     * $1 user, $2 beforeId or null, $3 channelId or null, $4 limit, $5 words separated by spaces.
     * The words pass through the same normalisation as the indexed text, then `plainto_tsquery`:
     * every word must match, and no character of the input is query syntax.
     */
    searchMessages: `SELECT ${m}
                       FROM ${s}.messages m
                       JOIN ${s}.members mb ON mb.channel_id = m.channel_id AND mb.user_id = $1
                      WHERE m.search @@ plainto_tsquery('simple'::regconfig,
                              regexp_replace($5::text, '[^[:alnum:]]+', ' ', 'g'))
                        AND m.kind = 'text' AND m.seq >= mb.joined_seq
                        AND ($2::text IS NULL OR m.id < $2::text)
                        AND ($3::text IS NULL OR m.channel_id = $3::text)
                      ORDER BY m.id DESC LIMIT $4`,
    syncHead: `SELECT head FROM ${s}.sync_heads WHERE user_id = $1`,
    syncAfter: `SELECT l.pos, l.entry, ${m}
                  FROM ${s}.sync_log l JOIN ${s}.messages m ON m.channel_id = l.channel_id AND m.seq = l.seq
                 WHERE l.user_id = $1 AND l.pos > $2
                 ORDER BY l.pos LIMIT $3`,
    clientMsg: `SELECT c.sender_pos, ${m}
                  FROM ${s}.client_msgs c JOIN ${s}.messages m ON m.channel_id = c.channel_id AND m.seq = c.seq
                 WHERE c.sender_id = $1 AND c.client_msg_id = $2`,

    // Writes (inside a transaction).
    channelTaken: `SELECT id = $1 AS by_id FROM ${s}.channels WHERE id = $1 OR direct_key = $2`,
    insertChannel: `INSERT INTO ${s}.channels (id, kind, name, created_by, created_at, direct_key, last_activity_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $5) ON CONFLICT DO NOTHING RETURNING id`,
    renameChannel: `UPDATE ${s}.channels SET name = $1 WHERE id = $2`,
    upsertMember: `INSERT INTO ${s}.members (${MEMBER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
                   ON CONFLICT (channel_id, user_id) DO UPDATE SET
                     role = excluded.role, joined_at = excluded.joined_at, joined_seq = excluded.joined_seq,
                     read_seq = excluded.read_seq, delivered_seq = excluded.delivered_seq`,
    deleteMember: `DELETE FROM ${s}.members WHERE channel_id = $1 AND user_id = $2`,
    raiseReadMarker: `UPDATE ${s}.members SET read_seq = greatest(read_seq, $1)
                       WHERE channel_id = $2 AND user_id = $3 RETURNING read_seq AS marker`,
    raiseDeliveredMarker: `UPDATE ${s}.members SET delivered_seq = greatest(delivered_seq, $1)
                            WHERE channel_id = $2 AND user_id = $3 RETURNING delivered_seq AS marker`,
    /** A message's attachments, written in the transaction of its append (append_group predates them). */
    setAttachments: `UPDATE ${s}.messages SET attachments = $1 WHERE channel_id = $2 AND seq = $3`,
    /** A reply's references, written in the transaction of its append (append_group predates them). */
    setReferences: `UPDATE ${s}.messages SET reply_to = $1, thread_root = $2 WHERE channel_id = $3 AND seq = $4`,
    /** The attachments of a message a retried send answers. */
    attachmentsOf: `SELECT attachments FROM ${s}.messages WHERE channel_id = $1 AND seq = $2`,
    // Moderation rows (keys are "C"-collated: byte order, the order the core pages in).
    moderationRow: `SELECT record FROM ${s}.moderation WHERE key = $1`,
    moderationRange: `SELECT key, record FROM ${s}.moderation WHERE key >= $1 AND key > $2 AND key < $3
                      ORDER BY key LIMIT $4`,
    /** Serialises transactions on one moderation key of this schema (see ModerationWrites). */
    lockModerationKey: `SELECT pg_advisory_xact_lock(${MODERATION_LOCK_CLASS}, hashtext('${schema.replace(/'/g, "''")}/' || $1))`,
    putModeration: `INSERT INTO ${s}.moderation (key, record) VALUES ($1, $2)
                    ON CONFLICT (key) DO UPDATE SET record = excluded.record`,
    deleteModeration: `DELETE FROM ${s}.moderation WHERE key = $1 RETURNING key`,
    /** A group of appends as one call: parallel arrays, one element per append (schema/append-functions.ts). */
    appendGroup: `SELECT n, outcome, channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions, system,
                         created_at, sender_pos, user_ids, positions
                    FROM ${s}.append_group($1::boolean[], $2::text[], $3::text[], $4::text[], $5::text[],
                                           $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[],
                                           $11::text[])`,
    /**
     * The same group as a statement of its own (schema 8): the store's write lock shared and the
     * `synchronous_commit` option ($1-$3, see {@link beginWrite}), then `append_group`'s values.
     */
    appendGroupAlone: `SELECT n, outcome, channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions,
                              system, created_at, sender_pos, user_ids, positions
                         FROM ${s}.append_group_alone($1::integer, $2::integer, $3::text, $4::boolean[],
                                $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                $11::text[], $12::text[], $13::bigint[], $14::text[])`,

    // Lifecycle (schema 6).
    /**
     * The channel's row lock, taken before a lifecycle write reads the message it changes: every change
     * of a message row happens under it (appends take it too), so the message read next is current.
     */
    lockChannel: `SELECT 1 FROM ${s}.channels WHERE id = $1 FOR UPDATE`,
    editMessage: `SELECT ${s}.edit_message($1, $2, $3, $4, $5, $6)`,
    eraseMessage: `SELECT ${s}.erase_message($1, $2, $3, $4)`,
    countThreadReply: `UPDATE ${s}.messages SET thread_replies = coalesce(thread_replies, 0) + 1,
                         thread_last_reply_at = $1, thread_last_reply_seq = $2
                        WHERE channel_id = $3 AND seq = $4`,
    addReaction: `INSERT INTO ${s}.reactions (channel_id, seq, emoji, user_id) VALUES ($1, $2, $3, $4)
                  ON CONFLICT DO NOTHING RETURNING 1`,
    removeReaction: `DELETE FROM ${s}.reactions WHERE channel_id = $1 AND seq = $2 AND emoji = $3 AND user_id = $4
                     RETURNING 1`,
    reactionEmojis: `SELECT DISTINCT emoji FROM ${s}.reactions WHERE channel_id = $1 AND seq = $2`,
    /**
     * One lifecycle entry ($4, JSON) for each recipient ($1) of message $2/$3: heads advanced in user id
     * order (the order every append takes them), positions in recipient order.
     */
    appendEntry: `WITH r AS (
                    SELECT u.user_id, u.o, row_number() OVER (PARTITION BY u.user_id ORDER BY u.o) AS k
                      FROM unnest($1::text[]) WITH ORDINALITY AS u (user_id, o)
                  ), counts AS (
                    SELECT r.user_id, count(*) AS added FROM r GROUP BY r.user_id
                  ), advanced AS (
                    INSERT INTO ${s}.sync_heads AS h (user_id, head)
                    SELECT c.user_id, c.added FROM counts c ORDER BY c.user_id COLLATE "C"
                    ON CONFLICT (user_id) DO UPDATE SET head = h.head + excluded.head
                    RETURNING h.user_id, h.head
                  ), placed AS (
                    SELECT r.o, r.user_id, adv.head - c.added + r.k AS pos
                      FROM r JOIN advanced adv ON adv.user_id = r.user_id JOIN counts c ON c.user_id = r.user_id
                  ), logged AS (
                    INSERT INTO ${s}.sync_log (user_id, pos, channel_id, seq, entry)
                    SELECT p.user_id, p.pos, $2, $3, $4 FROM placed p
                  )
                  SELECT p.user_id, p.pos FROM placed p ORDER BY p.o`,
    findMutation: `SELECT pos FROM ${s}.mutations WHERE user_id = $1 AND client_id = $2`,
    recordMutation: `INSERT INTO ${s}.mutations (user_id, client_id, pos) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING RETURNING 1`,
    /** $1 viewer, $2 channel, $3 seqs. */
    reactionsOf: `SELECT seq, emoji, count(*)::int AS n, bool_or(user_id = $1) AS me FROM ${s}.reactions
                   WHERE channel_id = $2 AND seq = ANY($3::bigint[])
                   GROUP BY seq, emoji`,
    reactorsOf: `SELECT user_id FROM ${s}.reactions
                  WHERE channel_id = $1 AND seq = $2 AND emoji = $3 AND user_id > $4
                  ORDER BY user_id LIMIT $5`,
    /** Replies of thread $2 with `$3 <= seq <= $4`, ascending, at most $5. */
    threadAscending: `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages
                       WHERE channel_id = $1 AND thread_root = $2 AND seq BETWEEN $3 AND $4
                       ORDER BY seq LIMIT $5`,
    /** Replies of thread $2 with `$3 <= seq <= $4`, descending, at most $5. */
    threadDescending: `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages
                        WHERE channel_id = $1 AND thread_root = $2 AND seq BETWEEN $3 AND $4
                        ORDER BY seq DESC LIMIT $5`,
  } as const;
}

/** The statements of one schema. */
export type Statements = ReturnType<typeof statements>;

/** First key of natter's advisory locks (two-key form): "natr". */
const ADVISORY_CLASS = 0x6e617472;

/**
 * The BEGIN of a write, with the store's write lock (an advisory lock keyed by the schema name,
 * taken before any row lock): shared by ordinary writes, exclusive for a write that appends more
 * than once (see `NeedsExclusive`), and the `synchronous_commit` option. Sent as one simple query,
 * so it costs one round trip; the lock keys are numbers computed here and the setting one of a fixed
 * list of words, nothing from outside.
 */
export function beginWrite(
  schema: string,
  synchronousCommit: SynchronousCommit | undefined,
): { shared: string; exclusive: string; alone: readonly [number, number, string | null] } {
  const objid = createHash('sha256').update(schema).digest().readInt32BE(0);
  const begin =
    synchronousCommit === undefined
      ? 'BEGIN ISOLATION LEVEL READ COMMITTED'
      : `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = ${synchronousCommit}`;
  return {
    shared: `${begin}; SELECT pg_advisory_xact_lock_shared(${ADVISORY_CLASS}, ${objid})`,
    exclusive: `${begin}; SELECT pg_advisory_xact_lock(${ADVISORY_CLASS}, ${objid})`,
    /** What `append_group_alone` takes in place of the shared BEGIN: the lock's keys and the setting. */
    alone: [ADVISORY_CLASS, objid, synchronousCommit ?? null],
  };
}
