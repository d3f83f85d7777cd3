import * as v from 'valibot';
import type { ErrorCode } from './error-codes.js';
import { DEFAULT_LIMITS, ID_LIMITS, type ProtocolLimits } from './limits.js';
import type { Message, SyncEntry } from './model.js';

/** Ids: 1-64 chars of `A-Z a-z 0-9 _ . : -`. Applies to user, channel, device and client message ids. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Schema for any natter id. */
export const IdSchema = v.pipe(v.string(), v.maxLength(ID_LIMITS.maxIdLength), v.regex(ID_PATTERN));
const Uint = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const Seq = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
/** Request ids correlate a response with its request; chosen by the client. */
const RequestId = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 32 - 1));
const Limit = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)));

/** `send`: append a text message to a channel. Retrying with the same `clientMsgId` returns the original ack. */
export const SendFrameSchema = v.object({
  t: v.literal('send'),
  rid: RequestId,
  channelId: IdSchema,
  clientMsgId: IdSchema,
  // Size is checked in bytes by the server against its configured limit; this bound only stops absurd input early.
  text: v.pipe(v.string(), v.minLength(1), v.maxLength(1_000_000)),
  mentions: v.optional(v.pipe(v.array(IdSchema), v.maxLength(ID_LIMITS.maxMentions))),
});

/** `sync`: entries of the caller's sync log after position `after`. Omit `epoch` only with `after: 0`. */
export const SyncFrameSchema = v.object({
  t: v.literal('sync'),
  rid: RequestId,
  epoch: v.optional(v.pipe(v.string(), v.maxLength(64))),
  after: Uint,
  limit: Limit,
});

/** `history`: a page of a channel; at most one of `before`, `after`, `around` (none: the latest page). */
export const HistoryFrameSchema = v.pipe(
  v.object({
    t: v.literal('history'),
    rid: RequestId,
    channelId: IdSchema,
    before: v.optional(Seq),
    after: v.optional(Uint),
    around: v.optional(Seq),
    limit: Limit,
  }),
  v.check(
    (f) => [f.before, f.after, f.around].filter((x) => x !== undefined).length <= 1,
    'at most one of before, after, around',
  ),
);

/** `ping`: heartbeat; answered with `pong`. */
export const PingFrameSchema = v.object({ t: v.literal('ping'), rid: RequestId });

/** `typing`: the user is typing in a channel (or stopped, with `active: false`). Answered only on error. */
export const TypingFrameSchema = v.object({
  t: v.literal('typing'),
  rid: RequestId,
  channelId: IdSchema,
  active: v.optional(v.boolean()),
});

/** `read`: raises the caller's read marker in a channel to `seq`; answered with `read.ok`. */
export const ReadFrameSchema = v.object({
  t: v.literal('read'),
  rid: RequestId,
  channelId: IdSchema,
  seq: Uint,
});

/** `received`: the device has stored messages up to `seq` (delivery receipt). Answered only on error. */
export const ReceivedFrameSchema = v.object({
  t: v.literal('received'),
  rid: RequestId,
  channelId: IdSchema,
  seq: Uint,
});

/** `presence.get`: presence of some users, or of a channel's members; answered with `presence.list`. */
export const PresenceGetFrameSchema = v.pipe(
  v.object({
    t: v.literal('presence.get'),
    rid: RequestId,
    userIds: v.optional(v.pipe(v.array(IdSchema), v.maxLength(200))),
    channelId: v.optional(IdSchema),
  }),
  v.check(
    (f) => (f.userIds === undefined) !== (f.channelId === undefined),
    'exactly one of userIds, channelId',
  ),
);

/** `status`: sets the caller's chosen status; answered with `status.ok`. */
export const StatusFrameSchema = v.object({
  t: v.literal('status'),
  rid: RequestId,
  status: v.picklist(['online', 'away', 'invisible']),
});

/** Schemas of every client frame, by `t`. */
export const CLIENT_FRAME_SCHEMAS = {
  send: SendFrameSchema,
  sync: SyncFrameSchema,
  history: HistoryFrameSchema,
  ping: PingFrameSchema,
  typing: TypingFrameSchema,
  read: ReadFrameSchema,
  received: ReceivedFrameSchema,
  'presence.get': PresenceGetFrameSchema,
  status: StatusFrameSchema,
} as const;

/** The type tag of a client frame. */
export type ClientFrameType = keyof typeof CLIENT_FRAME_SCHEMAS;

export type SendFrame = v.InferOutput<typeof SendFrameSchema>;
export type SyncFrame = v.InferOutput<typeof SyncFrameSchema>;
export type HistoryFrame = v.InferOutput<typeof HistoryFrameSchema>;
export type PingFrame = v.InferOutput<typeof PingFrameSchema>;
export type TypingFrame = v.InferOutput<typeof TypingFrameSchema>;
export type ReadFrame = v.InferOutput<typeof ReadFrameSchema>;
export type ReceivedFrame = v.InferOutput<typeof ReceivedFrameSchema>;
export type PresenceGetFrame = v.InferOutput<typeof PresenceGetFrameSchema>;
export type StatusFrame = v.InferOutput<typeof StatusFrameSchema>;
/** Any frame a client may send. */
export type ClientFrame =
  | SendFrame
  | SyncFrame
  | HistoryFrame
  | PingFrame
  | TypingFrame
  | ReadFrame
  | ReceivedFrame
  | PresenceGetFrame
  | StatusFrame;

/** First frame on every connection, sent by the server right after the handshake. */
export interface HelloFrame {
  t: 'hello';
  protocol: number;
  userId: string;
  deviceId: string;
  sessionId: string;
  /** Id of the sync log's lifetime; a cursor from another epoch must resync. */
  epoch: string;
  /** The user's newest sync position at connect time. */
  head: number;
  limits: ProtocolLimits;
  serverTime: number;
}

/** Answer to `send`: the message as stored, and its position in the sender's sync log. */
export interface AckFrame {
  t: 'ack';
  rid: number;
  /** The sender's sync entry for the message; the sending connection gets no separate `msg` for it. */
  entry: SyncEntry;
  /** True when this `clientMsgId` had been stored before (a retry): the original is returned. */
  duplicate: boolean;
}

/** A live sync entry pushed to a device. */
export interface MsgFrame {
  t: 'msg';
  entry: SyncEntry;
}

/** Answer to `sync`. */
export interface SyncPageFrame {
  t: 'sync.page';
  rid: number;
  epoch: string;
  entries: SyncEntry[];
  /** The user's newest position when the page was read. */
  head: number;
  /** True when entries after this page exist. */
  hasMore: boolean;
}

/** Answer to `history`: messages in ascending `seq`. */
export interface HistoryPageFrame {
  t: 'history.page';
  rid: number;
  channelId: string;
  messages: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

/** Answer to `ping`. */
export interface PongFrame {
  t: 'pong';
  rid: number;
  serverTime: number;
}

/** A typed error, in answer to request `rid` or (without `rid`) to a frame that could not be correlated. */
export interface ErrorFrame {
  t: 'error';
  rid?: number;
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
}

/** A user's presence as another user may see it. */
export interface PresenceInfo {
  userId: string;
  /** `offline` for users with no live device, and for invisible users. */
  status: 'online' | 'away' | 'offline';
  /** Last time the user was seen active, ms since the epoch; null if never. */
  lastActiveAt: number | null;
}

/** Pushed when the presence of a user who shares a small channel with the receiver changes. */
export interface PresenceFrame {
  t: 'presence';
  user: PresenceInfo;
}

/** Answer to `presence.get`: only users who share a channel with the caller are listed. */
export interface PresenceListFrame {
  t: 'presence.list';
  rid: number;
  users: PresenceInfo[];
}

/** Answer to `status`. */
export interface StatusOkFrame {
  t: 'status.ok';
  rid: number;
  status: 'online' | 'away' | 'invisible';
}

/** Pushed to the other members' connections while someone types; expires by itself after `expiresInMs`. */
export interface TypingEventFrame {
  t: 'typing';
  channelId: string;
  userId: string;
  /** False when the user stopped typing. */
  active: boolean;
  expiresInMs: number;
}

/** Answer to `read`: the marker after the call and the channel's unread count for the caller. */
export interface ReadOkFrame {
  t: 'read.ok';
  rid: number;
  channelId: string;
  readSeq: number;
  unread: number;
}

/**
 * Pushed when a member's read or delivery marker rises: to the member's own devices (so unread counts
 * agree everywhere) and to the other members (receipts).
 */
export interface ReceiptFrame {
  t: 'receipt';
  channelId: string;
  userId: string;
  readSeq: number;
  deliveredSeq: number;
}

/** Any frame a server may send. */
export type ServerFrame =
  | HelloFrame
  | AckFrame
  | MsgFrame
  | SyncPageFrame
  | HistoryPageFrame
  | PongFrame
  | ErrorFrame
  | PresenceFrame
  | PresenceListFrame
  | StatusOkFrame
  | TypingEventFrame
  | ReadOkFrame
  | ReceiptFrame;

export { DEFAULT_LIMITS };
