/**
 * The end-to-end encryption error codes, in one place until they move into `@natter/protocol`'s single list
 * (issue #22). Errors are values with a stable `code`, shaped like the protocol's `NatterError` (same `name`,
 * `code`, `message`): check them by `code`, never with `instanceof`.
 */

/** Every code the MLS engine (and, for the marked ones, the Delivery Service) produces. */
export const E2eeErrorCode = {
  /**
   * A commit (or message) belongs to an epoch older than the group's current one: another member's commit won
   * that epoch, or it is a replay. The Delivery Service answers a losing commit with it (HTTP 409); the client
   * processes the winner and retries its change in the new epoch.
   */
  STALE_EPOCH: 'NATTER_E2EE_STALE_EPOCH',
  /**
   * A commit is for an epoch after the group's current one: this device missed commits. Fetch the channel's
   * handshake entries from the last one processed, or rejoin by external commit.
   */
  EPOCH_GAP: 'NATTER_E2EE_EPOCH_GAP',
  /**
   * A commit for the current epoch failed MLS verification: forged, corrupted, or made on a fork of the group
   * state. The group state is unchanged; if the Delivery Service ordered it as the epoch's winner, this device
   * can no longer follow the group and must rejoin by external commit (`joinByExternalCommit`).
   */
  COMMIT_REJECTED: 'NATTER_E2EE_COMMIT_REJECTED',
  /** An application message could not be decrypted or authenticated (wrong keys, tampering, key too old). */
  DECRYPT_FAILED: 'NATTER_E2EE_DECRYPT_FAILED',
  /** A message names another MLS group than the one it was given for (a ciphertext of another channel). */
  WRONG_GROUP: 'NATTER_E2EE_WRONG_GROUP',
  /** This device has no state for the group: not (yet) joined, or removed. */
  UNKNOWN_GROUP: 'NATTER_E2EE_UNKNOWN_GROUP',
  /** The group already exists on this device (create twice, or a Welcome for a group already joined). */
  GROUP_EXISTS: 'NATTER_E2EE_GROUP_EXISTS',
  /**
   * A Welcome cannot be used: none of this device's KeyPackages is addressed (a replayed Welcome whose
   * single-use KeyPackage is spent, or one for another device), or it fails verification.
   */
  WELCOME_REJECTED: 'NATTER_E2EE_WELCOME_REJECTED',
  /**
   * A KeyPackage is unusable: undecodable, bad signature, other cipher suite, expired, or its credential is not
   * a natter device identity the authenticator accepts. The Delivery Service may answer an upload with it (400).
   */
  KEY_PACKAGE_INVALID: 'NATTER_E2EE_KEY_PACKAGE_INVALID',
  /**
   * The device has no KeyPackage on the Delivery Service (not even a last-resort one): it cannot be added until
   * it uploads some (HTTP 409, retry after the device comes online).
   */
  NO_KEY_PACKAGE: 'NATTER_E2EE_NO_KEY_PACKAGE',
  /** A change was asked while this device's previous commit for the group awaits the server's verdict. */
  COMMIT_PENDING: 'NATTER_E2EE_COMMIT_PENDING',
  /** `confirmCommit`/`discardCommit` was called with no pending commit for the group. */
  NO_PENDING_COMMIT: 'NATTER_E2EE_NO_PENDING_COMMIT',
  /** A device named for removal is not in the group. */
  NOT_IN_GROUP: 'NATTER_E2EE_NOT_IN_GROUP',
  /** Saved engine state could not be read (corrupt, truncated, or written by a newer version). */
  STATE_INVALID: 'NATTER_E2EE_STATE_INVALID',
} as const;

/** A stable end-to-end encryption error code. */
export type E2eeErrorCode = (typeof E2eeErrorCode)[keyof typeof E2eeErrorCode];

const ALL_CODES = new Set<string>(Object.values(E2eeErrorCode));

/**
 * An error with a stable end-to-end encryption code. Same shape and `name` as `NatterError`, so apps that
 * log or switch on `code` treat both alike.
 */
export class E2eeError extends Error {
  override readonly name = 'NatterError';
  constructor(
    readonly code: E2eeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Makes an end-to-end encryption error. The one place that changes when the codes join `ErrorCode`. */
export function e2eeError(code: E2eeErrorCode, message: string, cause?: unknown): E2eeError {
  return new E2eeError(code, message, cause === undefined ? undefined : { cause });
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
