import type { MediaKind, MediaThumbnail } from './types.js';

/** Where an upload is attached: the message (by channel and seq) that carries it. */
export type MediaAttachment =
  /** Not carried by any message: swept after the TTL. */
  | { state: 'unattached' }
  /** Claimed by a `send` in flight (its `token`), not yet known to be stored. */
  | { state: 'claimed'; channelId: string; token: string; claimedAt: number }
  /** Carried by the message `seq` of `channelId`. */
  | { state: 'attached'; channelId: string; token: string; seq: number };

/** One upload's metadata; the bytes live in the blob store under `blobKey` (and each thumbnail's). */
export interface MediaRecord {
  id: string;
  ownerId: string;
  kind: MediaKind;
  mime: string;
  size: number;
  sha256: string;
  /** SHA-256 of the bytes as uploaded: the same upload again answers this record (while unattached). */
  sourceSha256: string;
  filename: string;
  width?: number;
  height?: number;
  durationMs?: number;
  placeholder?: string;
  thumbnails: MediaThumbnail[];
  blobKey: string;
  createdAt: number;
  attachment: MediaAttachment;
}

/** Outcome of {@link MediaStore.claim}. */
export type ClaimResult =
  | { kind: 'claimed'; records: MediaRecord[] }
  /** Missing, or not the claimant's own upload (never told apart). */
  | { kind: 'notFound'; mediaId: string }
  /** Carried (or claimed) by another message. */
  | { kind: 'taken'; mediaId: string };

/**
 * Quota held for an upload in progress (its declared size), from its start until it is recorded or fails,
 * so uploads running at the same moment cannot together pass the owner's quota.
 */
export interface QuotaReservation {
  /** Unique per upload (a plain upload's own id, `tus:<upload id>` for tus). */
  id: string;
  /** The uploader, whose quota is held. */
  ownerId: string;
  /** Bytes held (the declared size). */
  bytes: number;
  /** After this (ms) the reservation no longer counts (a node that crashed mid-upload never releases it). */
  expiresAt: number;
}

/**
 * Media metadata (uploads, attachments, quota use), apart from the chat store so the chat adapters carry
 * only each message's copy of its attachments. Every method is atomic. `@natter/media` has SQLite (one
 * node) and, on `@natter/media/postgres`, PostgreSQL (clusters); `runMediaStoreContract` checks both.
 */
export interface MediaStore {
  readonly name: string;
  open(): Promise<void>;
  close(): Promise<void>;
  insert(record: MediaRecord): Promise<void>;
  /**
   * Inserts `record` only when the owner's stored bytes plus `record.size` stay within `quotaBytes`, and
   * drops the reservation `reservationId` (if given) in the same transaction; answers whether it inserted.
   * Checked and written atomically: concurrent uploads of one owner, on any node, never pass the quota.
   */
  insertWithinQuota(record: MediaRecord, quotaBytes: number, reservationId?: string): Promise<boolean>;
  /**
   * Holds `reservation.bytes` of the owner's quota, atomically: refused (`false`) when stored bytes plus
   * unexpired reservations plus these bytes would pass `quotaBytes`. Also forgets the owner's expired
   * reservations.
   */
  reserve(reservation: QuotaReservation, quotaBytes: number, now: number): Promise<boolean>;
  /** Drops a reservation (the upload failed or was recorded); a no-op when it is gone. */
  release(reservationId: string): Promise<void>;
  get(id: string): Promise<MediaRecord | undefined>;
  /** An unattached upload of `ownerId` with these source bytes (idempotent uploads), if any. */
  findUnattached(ownerId: string, sourceSha256: string): Promise<MediaRecord | undefined>;
  /** Bytes of `ownerId`'s uploads (stored files, thumbnails not counted) that still exist. */
  usage(ownerId: string): Promise<number>;
  /**
   * Claims uploads for one message, all or none: each must exist, belong to `ownerId`, and be unattached
   * or already claimed or attached with the same `token` (a retried send).
   */
  claim(
    ownerId: string,
    ids: readonly string[],
    channelId: string,
    token: string,
    now: number,
  ): Promise<ClaimResult>;
  /** Records the seq of the message that carries the uploads claimed with `token`. */
  commit(token: string, seq: number): Promise<void>;
  /** Gives back uploads claimed with `token` and not committed. */
  cancel(token: string): Promise<void>;
  /** Deletes the records of the uploads a message carried; answers them (their blob keys to release). */
  releaseMessage(channelId: string, seq: number): Promise<MediaRecord[]>;
  /**
   * Deletes up to `limit` records that are unattached and created before `before`, or claimed before
   * `before` without a commit (a send that never finished); answers them.
   */
  sweepUnattached(before: number, limit: number): Promise<MediaRecord[]>;
  /** The keys among `keys` that some record still references (as its file or a thumbnail). */
  referencedKeys(keys: readonly string[]): Promise<Set<string>>;
}

/** Every blob key a record references. */
export function blobKeysOf(record: MediaRecord): string[] {
  return [record.blobKey, ...record.thumbnails.map((t) => t.blobKey)];
}
