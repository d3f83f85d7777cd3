import { ErrorCode, isNatterError, isRetryable, NatterError } from '@natter/protocol';

/**
 * The codes only the SDK raises (the server never sends them), by short name: the `NATTER_CLIENT_*` and
 * `NATTER_BAD_RESPONSE` entries of the protocol's one error list. docs/client.md lists them.
 */
export const ClientErrorCode = Object.freeze({
  CLOSED: ErrorCode.CLIENT_CLOSED,
  DISCARDED: ErrorCode.CLIENT_DISCARDED,
  BAD_RESPONSE: ErrorCode.BAD_RESPONSE,
});

/** A code the SDK raises itself. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Any code an SDK error may carry: one of the protocol's list (server and SDK codes alike). */
export type AnyErrorCode = ErrorCode;

/** The error a request gets when its connection goes away before the answer (retryable). */
export function connectionLost(message = 'connection lost'): NatterError {
  return new NatterError(ErrorCode.UNAVAILABLE, message);
}

/** The error of operations cut short by `close()`. */
export function clientClosed(message = 'client closed'): NatterError {
  return new NatterError(ErrorCode.CLIENT_CLOSED, message);
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

export { ErrorCode, isNatterError, isRetryable, NatterError };
