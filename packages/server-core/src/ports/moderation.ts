import type { Report } from '@natter/protocol';

/**
 * Rows of the end-to-end encryption Delivery Service (docs/e2ee.md), kept in the same keyed-record store
 * under `e2ee/` keys (decision 146): MLS objects are base64 strings the server never reads beyond their
 * cleartext header.
 */
export type E2eeRecord =
  /** A published device and its MLS identity key. */
  | { kind: 'e2eeDevice'; userId: string; deviceId: string; signaturePublicKey: string; createdAt: number }
  /** One single-use KeyPackage of a device (claimed once, removed in the claiming transaction). */
  | { kind: 'e2eeKeyPackage'; keyPackage: string }
  /** A device's last-resort KeyPackage: handed out when no single-use one is left, never removed by a claim. */
  | { kind: 'e2eeLastResort'; keyPackage: string }
  /**
   * An encrypted channel's MLS state as the server orders it: the current epoch, the GroupInfo of that
   * epoch (null before the first commit) and the member devices (`userId/deviceId`).
   */
  | { kind: 'e2eeGroup'; channelId: string; epoch: number; groupInfo: string | null; devices: string[] }
  /** The commit accepted for an epoch (its SHA-256 and log seq): an identical retry answers it again. */
  | { kind: 'e2eeCommit'; hash: string; seq: number }
  /** A Welcome in a device's queue until the device acknowledges it. */
  | { kind: 'e2eeWelcome'; id: string; channelId: string; seq: number; welcome: string; createdAt: number };

/**
 * One moderation row. The rules (who may block, ban or report, the slow-mode interval) are the core's; an
 * adapter stores these rows under the keys the core gives and never looks inside them beyond `kind`.
 */
export type ModerationRecord =
  /** `blocker` blocked `blocked` (kept under both users' keys, so either side's set is one range read). */
  | { kind: 'block'; blockerId: string; blockedId: string; createdAt: number }
  /** `userId` is banned from group `channelId` until an admin unbans them. */
  | { kind: 'ban'; channelId: string; userId: string; bannedBy: string; createdAt: number }
  /** A group's slow mode: one message per `seconds` per member. */
  | { kind: 'slowMode'; channelId: string; seconds: number; setBy: string; setAt: number }
  /** When a member last sent in a slow-mode group (their next turn starts `seconds` later). */
  | { kind: 'slowTurn'; channelId: string; userId: string; sentAt: number }
  /** A report and its review. */
  | { kind: 'report'; report: Report }
  | E2eeRecord;

/** A row with its key, as a range read returns it. */
export interface ModerationEntry {
  key: string;
  record: ModerationRecord;
}

/**
 * Moderation reads on the {@link ChatStore} (`chat.moderation`), present when the manifest declares the
 * `moderation` capability. Keys are strings the core builds (`block/<user>/<user>`, `ban/<channel>/<user>`,
 * ...); they hold only id characters and the separator `/`, which no id contains.
 */
export interface ModerationReads {
  /** The row under `key`, as last committed. */
  get(key: string): Promise<ModerationRecord | undefined>;
  /**
   * Rows whose key starts with `prefix`, ascending by key (plain code-unit order), only keys after `after`
   * when given, at most `limit`.
   */
  list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]>;
}

/**
 * Moderation writes inside a {@link WriteTransaction} (`tx.moderation`): they commit or roll back with
 * the rest of the transaction (a ban with the removal of the member, a slow-mode turn with the message).
 *
 * **`get` inside a transaction serialises on the key**: a transaction that reads a key and another that
 * writes it never both commit on the strength of a stale read. A single-writer adapter has this for free;
 * a multi-process one locks the key (PostgreSQL: a transaction-scoped advisory lock) before reading. This
 * is what keeps a banned user from being re-added by a racing admin on another node.
 */
export interface ModerationWrites extends ModerationReads {
  /** Stores (or replaces) the row under `key`. */
  put(key: string, record: ModerationRecord): Promise<void>;
  /** Removes the row; true when there was one. */
  delete(key: string): Promise<boolean>;
}
