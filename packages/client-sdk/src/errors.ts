import { ErrorCode, isNatterError, NatterError, RETRYABLE_CODES } from '@natter/protocol';

/**
 * Error codes that only the SDK raises (the server never sends them). They complete the protocol's
 * {@link ErrorCode} list; docs/client.md lists both.
 */
export const ClientErrorCode = {
  /** The client was closed while the operation was in flight. A pending message stays in the outbox. */
  CLOSED: 'NATTER_CLIENT_CLOSED',
  /** The pending message was discarded with `discard()` before it was acknowledged. */
  DISCARDED: 'NATTER_CLIENT_DISCARDED',
} as const;

/** A code the SDK raises itself. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Any code an SDK error may carry: a server code or an SDK-only code. */
export type AnyErrorCode = ErrorCode | ClientErrorCode;

/**
 * An error raised by the SDK itself (not by the server). Check `code`, never `instanceof`:
 * dual ESM/CJS builds can load two copies of this class.
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The error a request gets when its connection goes away before the answer (retryable). */
export function connectionLost(message = 'connection lost'): NatterError {
  return new NatterError(ErrorCode.UNAVAILABLE, message);
}

/** True when retrying the same request later may succeed (rate limits, unavailability, lost connections). */
export function isRetryable(err: unknown): boolean {
  return isNatterError(err) && RETRYABLE_CODES.has(err.code);
}

/** The error code carried by `err`, if any (server or SDK code). */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Normalises anything thrown into an `Error` for events. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export { ErrorCode, isNatterError, NatterError };
