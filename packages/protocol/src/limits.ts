import * as v from 'valibot';

const Positive = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));

/** Limits a server enforces; sent to clients in the `hello` frame so they can check before sending. */
export const ProtocolLimitsSchema = v.object({
  /** Largest message text, in UTF-8 bytes. @default 16384 */
  maxMessageBytes: Positive,
  /** Largest WebSocket frame, in bytes (`ws` maxPayload). @default 65536 */
  maxFrameBytes: Positive,
  /** Sustained sends per second per connection. @default 20 */
  sendsPerSecond: Positive,
  /** Burst of sends allowed above the sustained rate. @default 40 */
  sendBurst: Positive,
  /** Largest group, in members. @default 100 */
  maxGroupMembers: Positive,
  /** Most entries a `sync` page returns. @default 500 */
  maxSyncPage: Positive,
  /** Most messages a `history` page returns. @default 200 */
  maxHistoryPage: Positive,
  /** Interval at which clients should ping, in ms. @default 20000 */
  heartbeatIntervalMs: Positive,
  /** Silence after which the server closes a connection with 4008, in ms. @default 60000 */
  heartbeatTimeoutMs: Positive,
});

/** Limits a server enforces; sent to clients in the `hello` frame so they can check before sending. */
export type ProtocolLimits = v.InferOutput<typeof ProtocolLimitsSchema>;

/** The defaults of {@link ProtocolLimits}. */
export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxMessageBytes: 16 * 1024,
  maxFrameBytes: 64 * 1024,
  sendsPerSecond: 20,
  sendBurst: 40,
  maxGroupMembers: 100,
  maxSyncPage: 500,
  maxHistoryPage: 200,
  heartbeatIntervalMs: 20_000,
  heartbeatTimeoutMs: 60_000,
});

/** Bounds on identifiers and names accepted anywhere in the protocol. */
export const ID_LIMITS = Object.freeze({
  /** Longest id (user, channel, device, client message id). */
  maxIdLength: 64,
  /** Longest display or group name, in characters. */
  maxNameLength: 100,
  /** Most @-mentions in one message. */
  maxMentions: 50,
  /** Most user ids one HTTP request may name (group creation, adding members, presence). */
  maxIdsPerRequest: 200,
});

/** What each limit bounds and what happens past it: the "enforced by" column of docs/protocol.md. */
export const LIMIT_ENFORCEMENT: Readonly<Record<keyof ProtocolLimits, string>> = Object.freeze({
  maxMessageBytes: '`send` → `NATTER_MESSAGE_TOO_LARGE`',
  maxFrameBytes: 'WebSocket `maxPayload` → close 1009',
  sendsPerSecond:
    'token bucket per connection → `NATTER_RATE_LIMITED`, then close 1008 after 50 refusals in a row',
  sendBurst: 'the token bucket of `sendsPerSecond`',
  maxGroupMembers: 'group create and add → `NATTER_GROUP_FULL`',
  maxSyncPage: '`sync` page size cap',
  maxHistoryPage: '`history` page size cap',
  heartbeatIntervalMs: 'clients send `ping` at this interval',
  heartbeatTimeoutMs: 'silent connections closed with 4008',
});

/** Bounds on media in messages and media URLs (docs/media.md). */
export const MEDIA_LIMITS = Object.freeze({
  /** Most attachments one message may carry; more → `NATTER_BAD_REQUEST`. */
  maxAttachmentsPerMessage: 10,
  /** Longest lifetime of a signed media URL, in ms (`POST /v1/media/{id}/url`). */
  maxSignedUrlTtlMs: 24 * 60 * 60 * 1000,
  /** Default lifetime of a signed media URL, in ms. */
  defaultSignedUrlTtlMs: 60 * 60 * 1000,
});
