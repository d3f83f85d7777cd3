/**
 * The one list of natter's error codes: wire codes the server sends, codes the SDK raises itself, and codes
 * of scale-out adapters. Each entry says who raises it, its HTTP status, whether retrying unchanged may
 * succeed, and the WebSocket close code when the error can also end a connection. docs/protocol.md,
 * docs/api.md and docs/client.md tables are generated from it (`npm run docs:tables`).
 *
 * Codes are stable: never renamed or reused. Check errors by `code`, never with `instanceof` (dual ESM/CJS
 * builds make `instanceof` unreliable).
 */

/**
 * Who raises an error: the server (on the wire and in the HTTP API), the client SDK, a broker (or presence
 * store, or registry) adapter, or a blob store adapter.
 */
export type ErrorOrigin = 'server' | 'client' | 'broker' | 'blob';

/** What the list records about one code. */
export interface ErrorSpec {
  /** HTTP status the API answers with (for client and broker codes: the status a gateway would use). */
  readonly status: number;
  /** True when the same request may succeed later unchanged (after `retryAfterMs` when given). */
  readonly retryable: boolean;
  /** The WebSocket close code used when this error ends a connection, if it can. */
  readonly closeCode?: number;
  readonly origin: ErrorOrigin;
  /** One sentence for the docs tables. */
  readonly summary: string;
}

/** Every code with its spec. Add codes at the end of their group; never rename one. */
export const ERRORS = {
  NATTER_BAD_REQUEST: {
    status: 400,
    retryable: false,
    closeCode: 1008,
    origin: 'server',
    summary:
      'A frame or request body failed validation (wrong shape, types or ids). Also answered with 405 for a wrong method and 413 for an oversized HTTP body; too many invalid frames close the socket with 1008.',
  },
  NATTER_UNKNOWN_FRAME: {
    status: 400,
    retryable: false,
    origin: 'server',
    summary: "A frame's `t` is not a client frame type this server knows.",
  },
  NATTER_UNAUTHORIZED: {
    status: 401,
    retryable: false,
    origin: 'server',
    summary: 'No credentials, or credentials that are not valid.',
  },
  NATTER_TOKEN_EXPIRED: {
    status: 401,
    retryable: false,
    closeCode: 4001,
    origin: 'server',
    summary: 'The access token has expired: refresh it and retry (sockets close with 4001).',
  },
  NATTER_INVALID_CREDENTIALS: {
    status: 401,
    retryable: false,
    origin: 'server',
    summary: 'Login failed; identical for unknown users and wrong passwords.',
  },
  NATTER_NOT_FOUND: {
    status: 404,
    retryable: false,
    origin: 'server',
    summary:
      'The channel, message, user or route does not exist, or the caller may not see it (never distinguished).',
  },
  NATTER_FORBIDDEN: {
    status: 403,
    retryable: false,
    origin: 'server',
    summary: 'The caller may see the thing but not do this (e.g. renaming a 1-1 channel).',
  },
  NATTER_MESSAGE_TOO_LARGE: {
    status: 413,
    retryable: false,
    closeCode: 1009,
    origin: 'server',
    summary: 'A message text exceeds `maxMessageBytes` (a frame above `maxFrameBytes` closes with 1009).',
  },
  NATTER_MESSAGE_REJECTED: {
    status: 422,
    retryable: false,
    origin: 'server',
    summary:
      "The app's message filter (`beforeSend`) refused the message; the message says why. Nothing was stored.",
  },
  NATTER_WEAK_PASSWORD: {
    status: 400,
    retryable: false,
    origin: 'server',
    summary: 'The new password is too common or too easy to guess (checked at signup and password change).',
  },
  NATTER_RATE_LIMITED: {
    status: 429,
    retryable: true,
    closeCode: 1008,
    origin: 'server',
    summary:
      'Too many requests; `retryAfterMs` says when to try again. A flood past the limit closes with 1008.',
  },
  NATTER_GROUP_FULL: {
    status: 409,
    retryable: false,
    origin: 'server',
    summary: 'A group would exceed its member limit (100 by default).',
  },
  NATTER_RESYNC_REQUIRED: {
    status: 409,
    retryable: false,
    origin: 'server',
    summary:
      "The device's sync cursor cannot be continued (another epoch, ahead of the log, or pruned): drop local state and sync from 0.",
  },
  NATTER_CONFLICT: {
    status: 409,
    retryable: false,
    origin: 'server',
    summary: 'A unique value is taken (e.g. a username at signup).',
  },
  NATTER_STORE_VERSION_UNSUPPORTED: {
    status: 500,
    retryable: false,
    origin: 'server',
    summary:
      'The store has a newer schema than the code, or the adapter implements another storage contract version.',
  },
  NATTER_UNAVAILABLE: {
    status: 503,
    retryable: true,
    closeCode: 1013,
    origin: 'server',
    summary: 'A dependency (storage, broker) is unavailable, or the connection was lost: retry later.',
  },
  NATTER_INTERNAL: {
    status: 500,
    retryable: true,
    closeCode: 1011,
    origin: 'server',
    summary: 'An unexpected server fault. Nothing was half-written.',
  },
  NATTER_MEDIA_TOO_LARGE: {
    status: 413,
    retryable: false,
    origin: 'server',
    summary: 'An upload exceeds `maxUploadBytes` (refused before reading past it).',
  },
  NATTER_MEDIA_QUOTA_EXCEEDED: {
    status: 413,
    retryable: false,
    origin: 'server',
    summary: 'An upload would take the user over their media quota.',
  },
  NATTER_MEDIA_TYPE_NOT_ALLOWED: {
    status: 415,
    retryable: false,
    origin: 'server',
    summary: "The upload's type, sniffed from its bytes, is not in the server's allowlist.",
  },
  NATTER_MEDIA_INVALID: {
    status: 422,
    retryable: false,
    origin: 'server',
    summary:
      'An image that cannot be decoded: truncated, corrupt, lying about its type, or above the pixel limit.',
  },
  NATTER_MEDIA_ALREADY_ATTACHED: {
    status: 409,
    retryable: false,
    origin: 'server',
    summary: 'A `send` names an upload that another message already carries (an upload is attached once).',
  },
  NATTER_RANGE_NOT_SATISFIABLE: {
    status: 416,
    retryable: false,
    origin: 'server',
    summary: 'A media download asked for a byte range outside the file.',
  },
  NATTER_E2EE_STALE_EPOCH: {
    status: 409,
    retryable: false,
    origin: 'server',
    summary:
      "A commit for an epoch another member's commit already won (or a replay): process the winner, then retry the change as a new commit.",
  },
  NATTER_E2EE_NO_KEY_PACKAGE: {
    status: 409,
    retryable: true,
    origin: 'server',
    summary: 'The device has no KeyPackage left (not even a last-resort one); retry once it uploaded some.',
  },
  NATTER_E2EE_KEY_PACKAGE_INVALID: {
    status: 400,
    retryable: false,
    origin: 'server',
    summary:
      'A KeyPackage is undecodable, badly signed, of another cipher suite, expired, or not a device identity.',
  },
  NATTER_E2EE_WRONG_GROUP: {
    status: 400,
    retryable: false,
    origin: 'server',
    summary: 'An MLS message names another group than the channel it was sent to.',
  },
  NATTER_E2EE_CHANNEL_MISMATCH: {
    status: 400,
    retryable: false,
    origin: 'server',
    summary:
      'Plaintext (`send`, `edit`, `react`) to an encrypted channel, or an MLS message or commit to a channel that is not encrypted.',
  },
  NATTER_E2EE_LIMIT: {
    status: 409,
    retryable: false,
    origin: 'server',
    summary:
      'A Delivery Service bound was reached: devices per user, KeyPackages stocked per device, or devices in one encrypted channel.',
  },
  NATTER_INSUFFICIENT_SCOPE: {
    status: 403,
    retryable: false,
    origin: 'server',
    summary:
      'A server API key was given but does not hold the scope the route needs (or no key was configured for the server API).',
  },
  NATTER_MESSAGE_DELETED: {
    status: 409,
    retryable: false,
    origin: 'server',
    summary:
      'An edit, reaction or reply names a message that was deleted: deleted messages are never changed or brought back.',
  },
  NATTER_EDIT_WINDOW_CLOSED: {
    status: 403,
    retryable: false,
    origin: 'server',
    summary: 'An edit came later than `editWindowMs` after the message was sent.',
  },
  NATTER_REACTION_LIMIT: {
    status: 409,
    retryable: false,
    origin: 'server',
    summary: 'A new emoji would take a message past `maxReactionEmojis` distinct emojis.',
  },
  NATTER_BAD_REFERENCE: {
    status: 400,
    retryable: false,
    origin: 'server',
    summary:
      '`replyTo` or `threadRoot` names no message of the same channel that the sender can see, or a thread root that is not a text message outside any thread.',
  },
  NATTER_RECIPIENT_UNAVAILABLE: {
    status: 403,
    retryable: false,
    origin: 'server',
    summary:
      'A 1-1 message cannot reach the other user: they blocked the sender or their account is deactivated (never distinguished). Nothing was stored.',
  },
  NATTER_USER_BANNED: {
    status: 403,
    retryable: false,
    origin: 'server',
    summary: 'A user named in a group add is banned from the group; an admin must unban them first.',
  },
  NATTER_SLOW_MODE: {
    status: 429,
    retryable: true,
    origin: 'server',
    summary:
      "The group is in slow mode and the sender's previous message was too recent; `retryAfterMs` says when the next one is allowed. Nothing was stored.",
  },
  NATTER_CLIENT_CLOSED: {
    status: 499,
    retryable: false,
    origin: 'client',
    summary:
      'The client was closed while the operation was in flight; a pending message stays in the outbox.',
  },
  NATTER_CLIENT_DISCARDED: {
    status: 499,
    retryable: false,
    origin: 'client',
    summary: 'The pending message was discarded (here or by another tab) before it was acknowledged.',
  },
  NATTER_BAD_RESPONSE: {
    status: 502,
    retryable: true,
    origin: 'client',
    summary:
      'The server answered something the SDK cannot use: a frame or body that fails the shared schema, or an answer of the wrong type for its request.',
  },
  NATTER_E2EE_EPOCH_GAP: {
    status: 409,
    retryable: false,
    origin: 'client',
    summary:
      "A commit is for a later epoch than the device's: fetch the missed handshake entries, or rejoin by external commit.",
  },
  NATTER_E2EE_COMMIT_REJECTED: {
    status: 400,
    retryable: false,
    origin: 'client',
    summary:
      'A commit failed MLS verification (forged, corrupt, or made on a fork); the device rejoins by external commit.',
  },
  NATTER_E2EE_DECRYPT_FAILED: {
    status: 400,
    retryable: false,
    origin: 'client',
    summary:
      'An encrypted message could not be decrypted or authenticated (wrong keys, tampering, key too old).',
  },
  NATTER_E2EE_UNKNOWN_GROUP: {
    status: 404,
    retryable: false,
    origin: 'client',
    summary: 'This device has no MLS state for the channel: not yet joined, or removed.',
  },
  NATTER_E2EE_GROUP_EXISTS: {
    status: 409,
    retryable: false,
    origin: 'client',
    summary:
      'The MLS group already exists on this device (created twice, or a Welcome for a group already joined).',
  },
  NATTER_E2EE_WELCOME_REJECTED: {
    status: 400,
    retryable: false,
    origin: 'client',
    summary:
      "A Welcome cannot be used: a replay of a spent KeyPackage, another device's, or failing verification.",
  },
  NATTER_E2EE_COMMIT_PENDING: {
    status: 409,
    retryable: true,
    origin: 'client',
    summary:
      "A change was asked while this device's previous commit for the group awaits the server's verdict.",
  },
  NATTER_E2EE_NO_PENDING_COMMIT: {
    status: 409,
    retryable: false,
    origin: 'client',
    summary: 'A pending commit was confirmed or discarded, but none is pending.',
  },
  NATTER_E2EE_NOT_IN_GROUP: {
    status: 404,
    retryable: false,
    origin: 'client',
    summary: 'A device named for removal is not in the MLS group.',
  },
  NATTER_E2EE_STATE_INVALID: {
    status: 500,
    retryable: false,
    origin: 'client',
    summary: 'Saved MLS state could not be read (corrupt, truncated, or written by a newer version).',
  },
  NATTER_BROKER_UNREACHABLE: {
    status: 503,
    retryable: true,
    origin: 'broker',
    summary:
      'A broker, presence-store or registry connection failed or dropped; publishes meanwhile may be lost (sync repairs them).',
  },
  NATTER_BROKER_RECONNECTED: {
    status: 200,
    retryable: false,
    origin: 'broker',
    summary:
      'A broker connection came back with its subscriptions; what was published meanwhile is recovered through sync.',
  },
  NATTER_BROKER_CLOSED: {
    status: 503,
    retryable: false,
    origin: 'broker',
    summary: 'The adapter was closed; nothing more is published or delivered.',
  },
  NATTER_BROKER_HANDLER_FAILED: {
    status: 500,
    retryable: false,
    origin: 'broker',
    summary: "A subscriber's handler threw; delivery to other handlers and later messages goes on.",
  },
  NATTER_BROKER_BAD_DATA: {
    status: 502,
    retryable: false,
    origin: 'broker',
    summary:
      'The broker or registry answered something the adapter cannot use (e.g. a malformed registry entry).',
  },
  NATTER_BLOB_UNAVAILABLE: {
    status: 503,
    retryable: true,
    origin: 'blob',
    summary: 'The blob backend (disk, S3 endpoint) failed or is unreachable; nothing was stored.',
  },
  NATTER_BLOB_RANGE_NOT_SATISFIABLE: {
    status: 416,
    retryable: false,
    origin: 'blob',
    summary: "A byte range starts at or past the end of the blob; the error's `size` is the blob's length.",
  },
  NATTER_BLOB_ABORTED: {
    status: 499,
    retryable: false,
    origin: 'blob',
    summary: '`put` was aborted through its signal; nothing was stored.',
  },
  NATTER_BLOB_CLOSED: {
    status: 503,
    retryable: false,
    origin: 'blob',
    summary: 'The blob store is not open (before `open()` or after `close()`).',
  },
} as const satisfies Record<`NATTER_${string}`, ErrorSpec>;

/** A stable natter error code. */
export type ErrorCode = keyof typeof ERRORS;

type ShortName<C extends string> = C extends `NATTER_${infer S}` ? S : never;

/** Every code by its short name: `ErrorCode.NOT_FOUND === 'NATTER_NOT_FOUND'`. */
export const ErrorCode = Object.freeze(
  Object.fromEntries(Object.keys(ERRORS).map((code) => [code.slice('NATTER_'.length), code])),
) as { readonly [C in ErrorCode as ShortName<C>]: C };

/** True when `value` is one of natter's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** The spec of a code. */
export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}

/** Codes a client may retry unchanged after a delay. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set(
  (Object.keys(ERRORS) as ErrorCode[]).filter((code) => ERRORS[code].retryable),
);

/** HTTP status used for each code by the HTTP API. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze(
  Object.fromEntries((Object.keys(ERRORS) as ErrorCode[]).map((code) => [code, ERRORS[code].status])),
) as Record<ErrorCode, number>;

/**
 * An error carrying a stable natter code. Thrown by the server core and the SDK alike.
 * `retryAfterMs` is set for rate limits and temporary unavailability.
 */
export class NatterError extends Error {
  override readonly name = 'NatterError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The error for a code read off the wire. A newer server may send a code this version does not list: it is
 * kept as is (apps compare strings), and {@link isRetryable} treats it as final.
 */
export function errorFromWire(code: string, message: string, retryAfterMs?: number): NatterError {
  return new NatterError(code as ErrorCode, message, retryAfterMs);
}

/**
 * True when `err` carries a natter error code (works across module copies, unlike `instanceof`). Codes a
 * newer server added count too: they start with `NATTER_`.
 */
export function isNatterError(err: unknown): err is NatterError {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('NATTER_');
}

/**
 * True when retrying the same request later may succeed (rate limits, unavailability, lost connections).
 * Codes this version does not know are final.
 */
export function isRetryable(err: unknown): boolean {
  return isNatterError(err) && isErrorCode(err.code) && ERRORS[err.code].retryable;
}
