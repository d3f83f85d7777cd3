import type { Message } from '@natter/protocol';
import type {
  ChannelRecord,
  LifecycleEntryRecord,
  MemberRecord,
  ModerationRecord,
  RefreshTokenRecord,
  SessionRevocation,
  UserRecord,
} from '@natter/server-core';

/** A channel row plus the time of its newest activity, which orders `listChannelsOf`. */
export interface ChannelRow extends ChannelRecord {
  /** `createdAt` of the newest message, or of the channel while it has none. */
  lastActivityAt: number;
}

/** Where a sync-log entry points; `entry` is set for lifecycle entries (absent: a new message). */
export interface SyncRef {
  channelId: string;
  seq: number;
  entry?: LifecycleEntryRecord;
}

/** Reactions of one message: emoji -> users, both in the order they were first added. */
export type ReactionSet = Map<string, Set<string>>;

/** Key of one message in per-message maps. */
export function messageKey(channelId: string, seq: number): string {
  return `${channelId}\n${seq}`;
}

/** An entry of the mentions index: a text message that @-mentions a user. */
export interface MentionRef {
  messageId: string;
  channelId: string;
  seq: number;
}

/** What an idempotency key resolves to. */
export interface ClientMsgRef {
  channelId: string;
  seq: number;
  /** The sender's sync position for the message; 0 when the sender was not a recipient. */
  senderPos: number;
}

/** Key of the idempotency map; `\n` cannot occur in ids the core generates or validates. */
export function clientMsgKey(senderId: string, clientMsgId: string): string {
  return `${senderId}\n${clientMsgId}`;
}

/**
 * The committed data of a memory store. Only `Staging.commit` changes the chat tables, in one
 * synchronous step, so readers never observe half of a write.
 */
export class MemoryState {
  readonly users = new Map<string, UserRecord>();
  /** username -> user id. */
  readonly usernames = new Map<string, string>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  /** Session revocations by subject. */
  readonly revocations = new Map<string, SessionRevocation>();
  readonly channels = new Map<string, ChannelRow>();
  /** directKey -> channel id. */
  readonly directKeys = new Map<string, string>();
  /** channel id -> user id -> membership. */
  readonly members = new Map<string, Map<string, MemberRecord>>();
  /** user id -> ids of the channels the user is a member of. */
  readonly channelsOfUser = new Map<string, Set<string>>();
  /** channel id -> messages; the message with seq `n` is at index `n - 1`. */
  readonly messages = new Map<string, Message[]>();
  /** user id -> sync log; the entry with pos `n` is at index `n - 1`. */
  readonly syncLogs = new Map<string, SyncRef[]>();
  readonly clientMsgs = new Map<string, ClientMsgRef>();
  /**
   * user id -> the text messages that mention the user, in append order. An edit adds refs for new
   * mentions; readers keep only refs whose message still mentions the user (so an edit or a delete
   * removes a mention without rewriting the list).
   */
  readonly mentions = new Map<string, MentionRef[]>();
  /** message key -> its reactions; absent when it has none. */
  readonly reactions = new Map<string, ReactionSet>();
  /** mutation key (`clientMsgKey(userId, clientId)`) -> the caller's position for it (0: no change). */
  readonly mutations = new Map<string, number>();
  /** Moderation rows (blocks, bans, slow mode, reports) by key. */
  readonly moderation = new Map<string, ModerationRecord>();
}
