import type { Attachment, Message, SyncEntry, SystemEvent } from '@natter/protocol';
import type {
  ChannelRecord,
  LifecycleEntryRecord,
  MemberRecord,
  RefreshTokenRecord,
  UserRecord,
} from '@natter/server-core';
import { decodeOptional, decodeText } from './text.js';

/** A row of `users`. */
export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string | null;
  created_at: number;
  deactivated_at: number | null;
}

/** A row of `refresh_tokens`. */
export interface TokenRow {
  token_hash: string;
  user_id: string;
  device_id: string;
  expires_at: number;
}

/** A row of `channels` (without `last_activity_at`, which only orders queries). */
export interface ChannelRow {
  id: string;
  kind: ChannelRecord['kind'];
  name: string | null;
  created_by: string;
  created_at: number;
  last_seq: number;
  direct_key: string | null;
}

/** A row of `members`. */
export interface MemberRow {
  channel_id: string;
  user_id: string;
  role: MemberRecord['role'];
  joined_at: number;
  joined_seq: number;
  read_seq: number;
  delivered_seq: number;
}

/** A row of `messages`; `mentions` and `system` are JSON text. */
export interface MessageRow {
  channel_id: string;
  seq: number;
  id: string;
  sender_id: string;
  client_msg_id: string | null;
  kind: Message['kind'];
  text: string;
  mentions: string;
  system: string | null;
  created_at: number;
  /** JSON array of the attachments' metadata; null (or absent, from append_group) when none. */
  attachments?: string | null;
  // Lifecycle columns (schema 6): NULL for most rows, absent from append_group's rows.
  edited_at?: number | null;
  version?: number | null;
  deleted_at?: number | null;
  deleted_by?: string | null;
  reply_to?: number | null;
  thread_root?: number | null;
  thread_replies?: number | null;
  thread_last_reply_at?: number | null;
  thread_last_reply_seq?: number | null;
}

/** A joined row of `listChannelsOf`: channel columns, then member columns prefixed `m_`. */
export interface ChannelMemberRow extends ChannelRow {
  m_role: MemberRecord['role'];
  m_joined_at: number;
  m_joined_seq: number;
  m_read_seq: number;
  m_delivered_seq: number;
}

/** Maps a `users` row to the port's record. */
export const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  username: row.username,
  displayName: decodeText(row.display_name),
  passwordHash: row.password_hash,
  createdAt: row.created_at,
  ...(row.deactivated_at !== null ? { deactivatedAt: row.deactivated_at } : {}),
});

/** Maps a `refresh_tokens` row to the port's record. */
export const toToken = (row: TokenRow): RefreshTokenRecord => ({
  tokenHash: row.token_hash,
  userId: row.user_id,
  deviceId: row.device_id,
  expiresAt: row.expires_at,
});

/** Maps a `channels` row to the port's record. */
export const toChannel = (row: ChannelRow): ChannelRecord => ({
  id: row.id,
  kind: row.kind,
  name: decodeOptional(row.name),
  createdBy: row.created_by,
  createdAt: row.created_at,
  lastSeq: row.last_seq,
  directKey: row.direct_key,
});

/** Maps a `members` row to the port's record. */
export const toMember = (row: MemberRow): MemberRecord => ({
  channelId: row.channel_id,
  userId: row.user_id,
  role: row.role,
  joinedAt: row.joined_at,
  joinedSeq: row.joined_seq,
  readSeq: row.read_seq,
  deliveredSeq: row.delivered_seq,
});

/** Maps a `messages` row to a message, decoding its text and parsing its JSON columns. */
export const toMessage = (row: MessageRow): Message => ({
  id: row.id,
  channelId: row.channel_id,
  seq: row.seq,
  senderId: row.sender_id,
  clientMsgId: row.client_msg_id,
  kind: row.kind,
  text: decodeText(row.text),
  mentions: JSON.parse(row.mentions) as string[],
  system: row.system === null ? null : (JSON.parse(row.system) as SystemEvent),
  createdAt: row.created_at,
  ...(row.attachments ? { attachments: JSON.parse(row.attachments) as Attachment[] } : {}),
  // An absent key means "never happened".
  ...(row.edited_at != null ? { editedAt: row.edited_at } : {}),
  ...(row.version != null ? { version: row.version } : {}),
  ...(row.deleted_at != null ? { deletedAt: row.deleted_at } : {}),
  ...(row.deleted_by != null ? { deletedBy: row.deleted_by } : {}),
  ...(row.reply_to != null ? { replyTo: row.reply_to } : {}),
  ...(row.thread_root != null ? { threadRoot: row.thread_root } : {}),
  ...(row.thread_replies != null ? { threadReplies: row.thread_replies } : {}),
  ...(row.thread_last_reply_at != null ? { threadLastReplyAt: row.thread_last_reply_at } : {}),
  ...(row.thread_last_reply_seq != null ? { threadLastReplySeq: row.thread_last_reply_seq } : {}),
});

/**
 * Maps a joined sync_log + messages row to a sync entry; `entry` holds a lifecycle entry's JSON. An
 * `edited` or `deleted` entry carries the message as it is now (never content a later change replaced).
 */
export const toSyncEntry = (row: MessageRow & { pos: number; entry?: string | null }): SyncEntry => {
  if (row.entry == null) return { pos: row.pos, kind: 'message', message: toMessage(row) };
  const entry = JSON.parse(row.entry) as LifecycleEntryRecord;
  if (entry.kind === 'reaction') return { pos: row.pos, ...entry };
  return { pos: row.pos, kind: entry.kind, message: toMessage(row) };
};

/** Maps a `listChannelsOf` row to the channel and the user's membership. */
export const toChannelWithMember = (row: ChannelMemberRow, userId: string) => ({
  channel: toChannel(row),
  member: toMember({
    channel_id: row.id,
    user_id: userId,
    role: row.m_role,
    joined_at: row.m_joined_at,
    joined_seq: row.m_joined_seq,
    read_seq: row.m_read_seq,
    delivered_seq: row.m_delivered_seq,
  }),
});
