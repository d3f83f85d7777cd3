import * as v from 'valibot';
import { ProtocolLimitsSchema } from '../limits.js';
import { ENTRY_SCHEMAS, KnownEntrySchema, SyncEntrySchema } from '../schemas/entries.js';
import { MessageSchema, PresenceInfoSchema } from '../schemas/model.js';
import {
  ChosenStatusSchema,
  IdSchema,
  RequestIdSchema,
  SeqSchema,
  TimestampSchema,
  UintSchema,
} from '../schemas/primitives.js';

/** First frame on every connection, sent by the server right after the handshake. */
export const HelloFrameSchema = v.object({
  t: v.literal('hello'),
  protocol: v.number(),
  userId: IdSchema,
  deviceId: IdSchema,
  sessionId: v.string(),
  /** Id of the sync log's lifetime; a cursor from another epoch must resync. */
  epoch: v.string(),
  /** The user's newest sync position at connect time. */
  head: UintSchema,
  /** The server's limits; a field a server does not send keeps its default in the client. */
  limits: v.partial(ProtocolLimitsSchema),
  serverTime: TimestampSchema,
});

/** Answer to `send`: the message as stored, and its position in the sender's sync log. */
export const AckFrameSchema = v.object({
  t: v.literal('ack'),
  rid: RequestIdSchema,
  /** The sender's sync entry for the message; the sending connection gets no separate `msg` for it. */
  entry: ENTRY_SCHEMAS.message,
  /** True when this `clientMsgId` had been stored before (a retry): the original is returned. */
  duplicate: v.boolean(),
});

/** A live sync entry pushed to a device. */
export const MsgFrameSchema = v.object({ t: v.literal('msg'), entry: SyncEntrySchema });

/** Answer to `sync`. */
export const SyncPageFrameSchema = v.object({
  t: v.literal('sync.page'),
  rid: RequestIdSchema,
  epoch: v.string(),
  entries: v.array(SyncEntrySchema),
  /** The user's newest position when the page was read. */
  head: UintSchema,
  /** True when entries after this page exist. */
  hasMore: v.boolean(),
});

/** Answer to `history`: messages in ascending `seq`. */
export const HistoryPageFrameSchema = v.object({
  t: v.literal('history.page'),
  rid: RequestIdSchema,
  channelId: IdSchema,
  /** Set when the page is of a thread's replies. */
  threadRoot: v.optional(SeqSchema),
  messages: v.array(MessageSchema),
  hasMoreBefore: v.boolean(),
  hasMoreAfter: v.boolean(),
});

/** Answer to `ping`. */
export const PongFrameSchema = v.object({
  t: v.literal('pong'),
  rid: RequestIdSchema,
  serverTime: TimestampSchema,
});

/**
 * A typed error, in answer to request `rid` or (without `rid`) to a frame that could not be correlated.
 * `code` is one of the error list's codes; a newer server may send codes an older client does not know.
 */
export const ErrorFrameSchema = v.object({
  t: v.literal('error'),
  rid: v.optional(RequestIdSchema),
  code: v.pipe(v.string(), v.startsWith('NATTER_'), v.maxLength(64)),
  message: v.string(),
  retryAfterMs: v.optional(UintSchema),
});

/** Pushed when the presence of a user who shares a small channel with the receiver changes. */
export const PresenceFrameSchema = v.object({ t: v.literal('presence'), user: PresenceInfoSchema });

/** Answer to `presence.get`: only users who share a channel with the caller are listed. */
export const PresenceListFrameSchema = v.object({
  t: v.literal('presence.list'),
  rid: RequestIdSchema,
  users: v.array(PresenceInfoSchema),
});

/** Answer to `status`. */
export const StatusOkFrameSchema = v.object({
  t: v.literal('status.ok'),
  rid: RequestIdSchema,
  status: ChosenStatusSchema,
});

/** Pushed to the other members' connections while someone types; expires by itself after `expiresInMs`. */
export const TypingEventFrameSchema = v.object({
  t: v.literal('typing'),
  channelId: IdSchema,
  userId: IdSchema,
  /** False when the user stopped typing. */
  active: v.boolean(),
  expiresInMs: UintSchema,
});

/** Answer to `read`: the marker after the call and the channel's unread count for the caller. */
export const ReadOkFrameSchema = v.object({
  t: v.literal('read.ok'),
  rid: RequestIdSchema,
  channelId: IdSchema,
  readSeq: UintSchema,
  unread: UintSchema,
});

/**
 * Pushed when a member's read or delivery marker rises: to the member's own devices (so unread counts
 * agree everywhere) and to the other members (receipts).
 */
export const ReceiptFrameSchema = v.object({
  t: v.literal('receipt'),
  channelId: IdSchema,
  userId: IdSchema,
  readSeq: UintSchema,
  deliveredSeq: UintSchema,
});

/**
 * Answer to `edit`, `delete` and `react`: the caller's sync entry for the change (the sending connection
 * gets no separate `msg` for it), or `entry: null` when nothing changed (a reaction already there, or
 * one already gone). `duplicate` is true when this `clientId` had been applied before.
 */
export const MutatedFrameSchema = v.object({
  t: v.literal('mutated'),
  rid: RequestIdSchema,
  entry: v.nullable(KnownEntrySchema),
  duplicate: v.boolean(),
});

/** Answer to `reactors`: user ids in ascending order; `hasMore` when a next page exists. */
export const ReactorsPageFrameSchema = v.object({
  t: v.literal('reactors.page'),
  rid: RequestIdSchema,
  userIds: v.array(IdSchema),
  hasMore: v.boolean(),
});

/** Schemas of every server frame, by `t`. */
export const SERVER_FRAME_SCHEMAS = {
  hello: HelloFrameSchema,
  ack: AckFrameSchema,
  msg: MsgFrameSchema,
  'sync.page': SyncPageFrameSchema,
  'history.page': HistoryPageFrameSchema,
  pong: PongFrameSchema,
  error: ErrorFrameSchema,
  presence: PresenceFrameSchema,
  'presence.list': PresenceListFrameSchema,
  'status.ok': StatusOkFrameSchema,
  typing: TypingEventFrameSchema,
  'read.ok': ReadOkFrameSchema,
  receipt: ReceiptFrameSchema,
  mutated: MutatedFrameSchema,
  'reactors.page': ReactorsPageFrameSchema,
} as const;

/** The type tag of a server frame. */
export type ServerFrameType = keyof typeof SERVER_FRAME_SCHEMAS;

/** The server frame with type tag `T`. */
export type ServerFrameOf<T extends ServerFrameType> = v.InferOutput<(typeof SERVER_FRAME_SCHEMAS)[T]>;

/** Any frame a server may send. */
export type ServerFrame = { [T in ServerFrameType]: ServerFrameOf<T> }[ServerFrameType];

export type HelloFrame = ServerFrameOf<'hello'>;
export type AckFrame = ServerFrameOf<'ack'>;
export type MsgFrame = ServerFrameOf<'msg'>;
export type SyncPageFrame = ServerFrameOf<'sync.page'>;
export type HistoryPageFrame = ServerFrameOf<'history.page'>;
export type PongFrame = ServerFrameOf<'pong'>;
export type ErrorFrame = ServerFrameOf<'error'>;
export type PresenceFrame = ServerFrameOf<'presence'>;
export type PresenceListFrame = ServerFrameOf<'presence.list'>;
export type StatusOkFrame = ServerFrameOf<'status.ok'>;
export type TypingEventFrame = ServerFrameOf<'typing'>;
export type ReadOkFrame = ServerFrameOf<'read.ok'>;
export type ReceiptFrame = ServerFrameOf<'receipt'>;
export type MutatedFrame = ServerFrameOf<'mutated'>;
export type ReactorsPageFrame = ServerFrameOf<'reactors.page'>;
