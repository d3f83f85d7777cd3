import type { E2eeErrorCode } from '@natter/e2ee';

/**
 * Payload of the client's `decryptionFailed` event: an entry of an encrypted channel this device could not
 * read. Never a silent drop: apps show a placeholder ("This message could not be decrypted") at `seq`.
 */
export interface DecryptionFailedEvent {
  channelId: string;
  /** The log position of the entry (a message, an edit, a reaction or a commit). */
  seq: number;
  /**
   * Why: `NATTER_E2EE_DECRYPT_FAILED` (tampered, or too old: keys of 4 past epochs are kept),
   * `NATTER_E2EE_UNKNOWN_GROUP` (sent before this device joined: the history limit),
   * `NATTER_E2EE_EPOCH_GAP` (a commit is missing: the SDK refetches), `NATTER_E2EE_WRONG_GROUP` (another
   * channel's ciphertext), `NATTER_E2EE_COMMIT_REJECTED` (a commit that does not verify), or
   * `NATTER_E2EE_STATE_INVALID` (the plaintext is not a natter message).
   */
  reason: E2eeErrorCode;
  message: string;
}
