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
  /** Most distinct emojis one message may carry in reactions. @default 20 */
  maxReactionEmojis: Positive,
  /** How long after sending its author may edit a message, in ms; 0 means no limit. @default 0 */
  editWindowMs: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
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
  maxReactionEmojis: 20,
  editWindowMs: 0,
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
  /**
   * Longest reaction emoji, in UTF-16 code units: room for a ZWJ family or a flag with modifiers, not for
   * text smuggled in as a reaction.
   */
  maxEmojiLength: 32,
  /** Characters of the parent's text a reply's preview carries. */
  replyPreviewChars: 100,
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
  maxReactionEmojis: '`react` add of a new emoji → `NATTER_REACTION_LIMIT`',
  editWindowMs: '`edit` later than this after sending → `NATTER_EDIT_WINDOW_CLOSED` (0: no limit)',
});

/** A token bucket: `perSecond` sustained, `burst` at once. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/**
 * The rate of one client frame kind, counted per socket and per user (across every socket of the user on
 * one node): a user's ten sockets get the user's rate once, not ten times.
 */
export interface FrameRate {
  readonly socket: RateLimit;
  readonly user: RateLimit;
}

/** A sliding window of failures: past `maxFailures` within `windowMs`, further attempts are refused. */
export interface FailureWindow {
  readonly maxFailures: number;
  readonly windowMs: number;
}

/**
 * Server-side resource bounds against abuse by an ordinary account. Not sent to clients (unlike
 * {@link ProtocolLimits}); servers override them with the `resourceLimits` option.
 */
export interface ResourceLimits {
  /** Bytes queued on a socket (live entries, replies and acks alike) before it is closed with 1008. */
  readonly maxBufferedBytes: number;
  /** Open sockets per user on one node; past it a new upgrade gets 429 (or the socket is closed with 4029). */
  readonly maxConnectionsPerUser: number;
  /** Sockets (open or in handshake) per client address on one node; past it the upgrade gets 429. */
  readonly maxConnectionsPerAddress: number;
  /**
   * WebSocket upgrade attempts per client address, checked before the token: a reconnect loop is refused
   * for the price of a header parse, not a token check. Sized for a NAT's crowd reconnecting after a restart.
   */
  readonly handshakesPerAddress: RateLimit;
  /** Requests of one socket being processed at once; past it a request gets `NATTER_RATE_LIMITED`. */
  readonly maxInFlightPerConnection: number;
  /**
   * Requests of one user (all sockets on a node) being processed at once: bounds the answers being built
   * for one account, whatever number of sockets it opens and reopens.
   */
  readonly maxInFlightPerUser: number;
  /** New sockets per user on one node (a reconnect loop); past it the socket is closed with 4029. */
  readonly connectsPerUser: RateLimit;
  /** Refused frames (rate or in-flight limit) in a row before the socket is closed with 1008. */
  readonly maxRateLimitStrikes: number;
  /** Invalid frames per socket before it is closed with 1008. */
  readonly maxBadFrames: number;
  /**
   * Rate of each client frame kind. `send` per socket is the protocol's `sendsPerSecond`/`sendBurst`, and
   * `send` per user at least twice that.
   */
  readonly frameRates: Readonly<Record<RateLimitedFrameKind, FrameRate>>;
  /** Signups per client address. */
  readonly signupsPerAddress: RateLimit;
  /** Failed logins per client address (any account). */
  readonly loginFailuresPerAddress: FailureWindow;
  /** Failed logins per (account, address) pair: what an attacker at one address can try. */
  readonly loginFailuresPerAccountAddress: FailureWindow;
  /**
   * Failed logins per account from every address together: slower than the pair limit, so one attacker
   * cannot lock the owner out from the owner's own address, and a botnet still gets only this many guesses.
   */
  readonly loginFailuresPerAccount: FailureWindow;
  /**
   * Reports (`POST /v1/reports`) per user on one node: enough for a user who meets a spam wave, too few to
   * flood the app's moderators.
   */
  readonly reportsPerUser: RateLimit;
}

/** The client frame kinds with buckets of their own; the others share one ({@link SHARED_FRAME_RATES}). */
export type RateLimitedFrameKind =
  | 'send'
  | 'sync'
  | 'history'
  | 'ping'
  | 'typing'
  | 'read'
  | 'received'
  | 'presence.get'
  | 'status';

/**
 * Client frame kinds that draw on another kind's buckets rather than their own: an edit, a delete or a
 * reaction costs the server what a send does (a transaction and an entry per member), and listing who
 * reacted is a history read.
 */
export const SHARED_FRAME_RATES = Object.freeze({
  edit: 'send',
  delete: 'send',
  react: 'send',
  reactors: 'history',
} as const satisfies Record<string, RateLimitedFrameKind>);

/** The rate-limit bucket a client frame kind draws on. */
export function rateKindOf(t: RateLimitedFrameKind | keyof typeof SHARED_FRAME_RATES): RateLimitedFrameKind {
  return t in SHARED_FRAME_RATES
    ? SHARED_FRAME_RATES[t as keyof typeof SHARED_FRAME_RATES]
    : (t as RateLimitedFrameKind);
}

const rate = (perSecond: number, burst: number): RateLimit => Object.freeze({ perSecond, burst });
const perSocketAndUser = (socket: RateLimit, user: RateLimit): FrameRate => Object.freeze({ socket, user });

/** The defaults of {@link ResourceLimits}. */
export const DEFAULT_RESOURCE_LIMITS: Readonly<ResourceLimits> = Object.freeze({
  maxBufferedBytes: 1024 * 1024,
  maxConnectionsPerUser: 20,
  maxConnectionsPerAddress: 200,
  handshakesPerAddress: rate(50, 200),
  maxInFlightPerConnection: 16,
  maxInFlightPerUser: 8,
  connectsPerUser: rate(2, 20),
  maxRateLimitStrikes: 50,
  maxBadFrames: 20,
  frameRates: Object.freeze({
    send: perSocketAndUser(rate(20, 40), rate(40, 80)),
    sync: perSocketAndUser(rate(10, 20), rate(20, 40)),
    history: perSocketAndUser(rate(10, 20), rate(20, 40)),
    ping: perSocketAndUser(rate(2, 5), rate(10, 20)),
    typing: perSocketAndUser(rate(2, 4), rate(4, 8)),
    read: perSocketAndUser(rate(20, 40), rate(40, 80)),
    received: perSocketAndUser(rate(20, 40), rate(40, 80)),
    'presence.get': perSocketAndUser(rate(5, 10), rate(10, 20)),
    status: perSocketAndUser(rate(1, 3), rate(2, 5)),
  }),
  signupsPerAddress: rate(20 / 3600, 20),
  loginFailuresPerAddress: Object.freeze({ maxFailures: 20, windowMs: 60_000 }),
  loginFailuresPerAccountAddress: Object.freeze({ maxFailures: 5, windowMs: 60_000 }),
  loginFailuresPerAccount: Object.freeze({ maxFailures: 100, windowMs: 3_600_000 }),
  reportsPerUser: rate(20 / 3600, 10),
});

/** What happens past each {@link ResourceLimits} bound: the "past it" column of docs/security.md. */
export const RESOURCE_LIMIT_ENFORCEMENT: Readonly<
  Record<Exclude<keyof ResourceLimits, 'frameRates'>, string>
> = Object.freeze({
  maxBufferedBytes: 'close 1008 `slow consumer` (live entries, replies and acks alike); sync repairs',
  maxConnectionsPerUser:
    'the upgrade is answered 429 with `Retry-After`; a socket that gets past it (a race, another transport) is closed with 4029',
  handshakesPerAddress: 'the upgrade is answered 429 with `Retry-After` before authentication',
  maxConnectionsPerAddress: 'the upgrade is answered 429 `NATTER_RATE_LIMITED` before authentication',
  maxInFlightPerConnection: '`NATTER_RATE_LIMITED` (counts as a strike)',
  maxInFlightPerUser: '`NATTER_RATE_LIMITED` (counts as a strike)',
  connectsPerUser: 'as `maxConnectionsPerUser`: 429 at the upgrade, else close 4029 with `retryAfterMs`',
  maxRateLimitStrikes: 'close 1008 `flood`',
  maxBadFrames: 'close 1008 `too many invalid frames`',
  signupsPerAddress: '429 `NATTER_RATE_LIMITED` with `Retry-After`',
  loginFailuresPerAddress: '429 `NATTER_RATE_LIMITED` with `Retry-After`, before the password is hashed',
  loginFailuresPerAccountAddress: '429 `NATTER_RATE_LIMITED`; a success from the pair resets the pair only',
  loginFailuresPerAccount: '429 `NATTER_RATE_LIMITED` for every address until the window slides',
  reportsPerUser: '429 `NATTER_RATE_LIMITED` with `Retry-After`; nothing is stored',
});

/** Bounds of moderation (docs/moderation.md): blocks, reports and slow mode. */
export const MODERATION_LIMITS = Object.freeze({
  /** Users one user may block; a block past it is refused with `NATTER_BAD_REQUEST`. */
  maxBlocksPerUser: 1000,
  /** Longest free-text note of a report, in characters. */
  maxReportNoteChars: 1000,
  /** Characters of the reported message's text kept as evidence in the report. */
  maxReportSnapshotChars: 4000,
  /** Longest slow-mode interval of a group, in seconds (6 hours). */
  maxSlowModeSeconds: 21_600,
  /** Most reports one page of `GET /v1/server/reports` returns. */
  maxReportPage: 200,
});

/** What happens past the rate of each frame kind. */
export const FRAME_RATE_ENFORCEMENT: Readonly<Record<RateLimitedFrameKind, string>> = Object.freeze({
  send: '`NATTER_RATE_LIMITED` + `retryAfterMs`',
  sync: '`NATTER_RATE_LIMITED` + `retryAfterMs`',
  history: '`NATTER_RATE_LIMITED` + `retryAfterMs`',
  ping: '`NATTER_RATE_LIMITED` + `retryAfterMs`',
  typing: 'coalesced: the latest state per channel is sent when the bucket refills',
  read: '`NATTER_RATE_LIMITED` + `retryAfterMs`',
  received: 'coalesced: the highest `seq` per channel is stored when the bucket refills',
  'presence.get': '`NATTER_RATE_LIMITED` + `retryAfterMs`',
  status: 'coalesced: answered at once, the latest status is applied when the bucket refills',
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

/**
 * Bounds of the end-to-end encryption Delivery Service (docs/e2ee.md). Byte sizes are of the decoded bytes;
 * on the wire they travel as standard base64 (4 characters per 3 bytes).
 */
export const E2EE_LIMITS = Object.freeze({
  /** Devices one user may publish (revoke one to add another): `NATTER_E2EE_LIMIT` past it. */
  maxDevicesPerUser: 10,
  /** Single-use KeyPackages stocked per device; an upload past it is refused with `NATTER_E2EE_LIMIT`. */
  maxKeyPackagesPerDevice: 100,
  /** KeyPackages in one upload. */
  maxKeyPackagesPerUpload: 100,
  /** Below this many single-use KeyPackages the device's stock is `low` and it should upload more. */
  lowKeyPackageStock: 10,
  /** Devices claimed in one `POST /v1/key-packages/claim`. */
  maxClaimDevices: 100,
  /** MLS leaves (devices) of one encrypted channel: 100 members of up to 10 devices. */
  maxDevicesPerChannel: 1000,
  /** Devices one commit may add or remove (each list). */
  maxCommitDevices: 1000,
  /** Largest KeyPackage, bytes (a suite-1 one is about 300). */
  maxKeyPackageBytes: 4096,
  /** Largest device signature public key, bytes (Ed25519: 32). */
  maxSignatureKeyBytes: 256,
  /** Largest commit, Welcome and GroupInfo, bytes each (adding 100 devices: about 35 KB each). */
  maxHandshakeBytes: 262_144,
  /** Largest application message ciphertext, bytes: three times a message's default text limit. */
  maxCiphertextBytes: 49_152,
  /** Body limit of `POST /v1/channels/{id}/commits` (three base64 handshake objects and the device lists). */
  maxCommitBodyBytes: 1_200_000,
  /**
   * Body limit of `POST /v1/channels/{id}/encrypted`: a base64 ciphertext (65,536 characters), its client id
   * and up to `MEDIA_LIMITS.maxAttachmentsPerMessage` upload ids (about 1 KB).
   */
  maxEncryptedBodyBytes: 72_000,
  /** Welcomes waiting in one device's queue; the oldest unacknowledged ones are dropped past it. */
  maxQueuedPerDevice: 200,
});
