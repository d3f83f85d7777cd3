import { ErrorCode, NatterError } from '@natter/protocol';

/**
 * The end-to-end encryption codes of the protocol's one error list (`NATTER_E2EE_*`), by short name: those
 * the Delivery Service answers (stale epoch, KeyPackages, wrong group) and those the MLS engine raises on the
 * device. Check errors by `code`, never with `instanceof`.
 */
export const E2eeErrorCode = Object.freeze({
  STALE_EPOCH: ErrorCode.E2EE_STALE_EPOCH,
  EPOCH_GAP: ErrorCode.E2EE_EPOCH_GAP,
  COMMIT_REJECTED: ErrorCode.E2EE_COMMIT_REJECTED,
  DECRYPT_FAILED: ErrorCode.E2EE_DECRYPT_FAILED,
  WRONG_GROUP: ErrorCode.E2EE_WRONG_GROUP,
  UNKNOWN_GROUP: ErrorCode.E2EE_UNKNOWN_GROUP,
  GROUP_EXISTS: ErrorCode.E2EE_GROUP_EXISTS,
  WELCOME_REJECTED: ErrorCode.E2EE_WELCOME_REJECTED,
  KEY_PACKAGE_INVALID: ErrorCode.E2EE_KEY_PACKAGE_INVALID,
  NO_KEY_PACKAGE: ErrorCode.E2EE_NO_KEY_PACKAGE,
  COMMIT_PENDING: ErrorCode.E2EE_COMMIT_PENDING,
  NO_PENDING_COMMIT: ErrorCode.E2EE_NO_PENDING_COMMIT,
  NOT_IN_GROUP: ErrorCode.E2EE_NOT_IN_GROUP,
  STATE_INVALID: ErrorCode.E2EE_STATE_INVALID,
});

/** A stable end-to-end encryption error code. */
export type E2eeErrorCode = (typeof E2eeErrorCode)[keyof typeof E2eeErrorCode];

/** An end-to-end encryption error: a `NatterError` with one of the {@link E2eeErrorCode}s. */
export type E2eeError = NatterError & { readonly code: E2eeErrorCode };

const ALL_CODES = new Set<string>(Object.values(E2eeErrorCode));

/** Makes an end-to-end encryption error. */
export function e2eeError(code: E2eeErrorCode, message: string, cause?: unknown): E2eeError {
  return new NatterError(code, message, undefined, cause === undefined ? undefined : { cause }) as E2eeError;
}

/** True when `err` carries an end-to-end encryption code (works across module copies, unlike `instanceof`). */
export function isE2eeError(err: unknown): err is E2eeError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    ALL_CODES.has((err as { code: string }).code)
  );
}
