/**
 * Every error code natter puts on the wire, in the HTTP API and in the SDK.
 * Codes are stable: never renamed or reused. Check errors by `code`, never with `instanceof`
 * (dual ESM/CJS builds make `instanceof` unreliable). docs/protocol.md lists the same table.
 */
export const ErrorCode = {
  /** A frame or request body failed validation (wrong shape, wrong types, bad ids). */
  BAD_REQUEST: 'NATTER_BAD_REQUEST',
  /** A frame's `t` is not a known client frame type. */
  UNKNOWN_FRAME: 'NATTER_UNKNOWN_FRAME',
  /** No or invalid credentials. */
  UNAUTHORIZED: 'NATTER_UNAUTHORIZED',
  /** The access token has expired; refresh it and retry. */
  TOKEN_EXPIRED: 'NATTER_TOKEN_EXPIRED',
  /** Login failed. Identical for unknown users and wrong passwords. */
  INVALID_CREDENTIALS: 'NATTER_INVALID_CREDENTIALS',
  /** The channel, message or user does not exist, or the caller may not see it (never distinguished). */
  NOT_FOUND: 'NATTER_NOT_FOUND',
  /** The caller may see the channel but not do this (e.g. a member renaming a 1-1 channel). */
  FORBIDDEN: 'NATTER_FORBIDDEN',
  /** A message text exceeds the configured size limit. */
  MESSAGE_TOO_LARGE: 'NATTER_MESSAGE_TOO_LARGE',
  /** Too many requests; `retryAfterMs` says when to try again. */
  RATE_LIMITED: 'NATTER_RATE_LIMITED',
  /** A group would exceed its member limit (100 by default). */
  GROUP_FULL: 'NATTER_GROUP_FULL',
  /** The device's sync cursor cannot be continued (other epoch, ahead of the log, or pruned): refetch state. */
  RESYNC_REQUIRED: 'NATTER_RESYNC_REQUIRED',
  /** A unique value is taken (e.g. a username at signup). */
  CONFLICT: 'NATTER_CONFLICT',
  /** The store refused a version it does not understand (schema newer than the code). */
  STORE_VERSION_UNSUPPORTED: 'NATTER_STORE_VERSION_UNSUPPORTED',
  /** A dependency (storage, broker) is temporarily unavailable; retry later. */
  UNAVAILABLE: 'NATTER_UNAVAILABLE',
  /** An unexpected server fault. Nothing was half-written. */
  INTERNAL: 'NATTER_INTERNAL',
  /** An upload is larger than the configured limit (`maxUploadBytes`); refused before reading past it. */
  MEDIA_TOO_LARGE: 'NATTER_MEDIA_TOO_LARGE',
  /** An upload would take the user past their storage quota. */
  MEDIA_QUOTA_EXCEEDED: 'NATTER_MEDIA_QUOTA_EXCEEDED',
  /** The upload's type, sniffed from its bytes, is not on the app's allowlist. */
  MEDIA_TYPE_NOT_ALLOWED: 'NATTER_MEDIA_TYPE_NOT_ALLOWED',
  /** The upload claims a type its bytes do not decode as (truncated, corrupt, or a decompression bomb). */
  MEDIA_INVALID: 'NATTER_MEDIA_INVALID',
} as const;

/** A stable natter error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const ALL_CODES = new Set<string>(Object.values(ErrorCode));

/** True when `value` is one of natter's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ALL_CODES.has(value);
}

/** Codes a client may retry unchanged after a delay. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.RATE_LIMITED,
  ErrorCode.UNAVAILABLE,
  ErrorCode.INTERNAL,
]);

/** HTTP status used for each code by the HTTP API. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  NATTER_BAD_REQUEST: 400,
  NATTER_UNKNOWN_FRAME: 400,
  NATTER_UNAUTHORIZED: 401,
  NATTER_TOKEN_EXPIRED: 401,
  NATTER_INVALID_CREDENTIALS: 401,
  NATTER_NOT_FOUND: 404,
  NATTER_FORBIDDEN: 403,
  NATTER_MESSAGE_TOO_LARGE: 413,
  NATTER_RATE_LIMITED: 429,
  NATTER_GROUP_FULL: 409,
  NATTER_RESYNC_REQUIRED: 409,
  NATTER_CONFLICT: 409,
  NATTER_STORE_VERSION_UNSUPPORTED: 500,
  NATTER_UNAVAILABLE: 503,
  NATTER_INTERNAL: 500,
  NATTER_MEDIA_TOO_LARGE: 413,
  NATTER_MEDIA_QUOTA_EXCEEDED: 413,
  NATTER_MEDIA_TYPE_NOT_ALLOWED: 415,
  NATTER_MEDIA_INVALID: 422,
};

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
  ) {
    super(message);
  }
}

/** True when `err` carries a natter error code (works across module copies, unlike `instanceof`). */
export function isNatterError(err: unknown): err is NatterError {
  return typeof err === 'object' && err !== null && isErrorCode((err as { code?: unknown }).code);
}
