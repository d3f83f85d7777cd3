import type { MediaRecord } from './media-store.js';
import type { MediaKind, MediaThumbnail } from './types.js';

/** A `media` row as both SQL adapters store it; optional metadata travels as one JSON column. */
export interface MediaRowFields {
  id: string;
  owner_id: string;
  kind: string;
  mime: string;
  size: number | string;
  sha256: string;
  source_sha256: string;
  filename: string;
  meta: string;
  blob_key: string;
  created_at: number | string;
  channel_id: string | null;
  claim_token: string | null;
  claimed_at: number | string | null;
  seq: number | string | null;
}

interface Meta {
  width?: number;
  height?: number;
  durationMs?: number;
  placeholder?: string;
  thumbnails: MediaThumbnail[];
}

/** The row of a record (a new record is unattached or claimed, never attached, but any state maps). */
export function rowOf(record: MediaRecord): MediaRowFields {
  const { attachment } = record;
  const meta: Meta = {
    ...(record.width !== undefined ? { width: record.width } : {}),
    ...(record.height !== undefined ? { height: record.height } : {}),
    ...(record.durationMs !== undefined ? { durationMs: record.durationMs } : {}),
    ...(record.placeholder !== undefined ? { placeholder: record.placeholder } : {}),
    thumbnails: record.thumbnails,
  };
  return {
    id: record.id,
    owner_id: record.ownerId,
    kind: record.kind,
    mime: record.mime,
    size: record.size,
    sha256: record.sha256,
    source_sha256: record.sourceSha256,
    filename: record.filename,
    meta: JSON.stringify(meta),
    blob_key: record.blobKey,
    created_at: record.createdAt,
    channel_id: attachment.state === 'unattached' ? null : attachment.channelId,
    claim_token: attachment.state === 'unattached' ? null : attachment.token,
    claimed_at: attachment.state === 'claimed' ? attachment.claimedAt : null,
    seq: attachment.state === 'attached' ? attachment.seq : null,
  };
}

/** The record of a row (PostgreSQL answers bigint columns as strings). */
export function recordOf(row: MediaRowFields): MediaRecord {
  const meta = JSON.parse(row.meta) as Meta;
  const attachment: MediaRecord['attachment'] =
    row.claim_token === null || row.channel_id === null
      ? { state: 'unattached' }
      : row.seq !== null
        ? { state: 'attached', channelId: row.channel_id, token: row.claim_token, seq: Number(row.seq) }
        : {
            state: 'claimed',
            channelId: row.channel_id,
            token: row.claim_token,
            claimedAt: Number(row.claimed_at ?? 0),
          };
  return {
    id: row.id,
    ownerId: row.owner_id,
    kind: row.kind as MediaKind,
    mime: row.mime,
    size: Number(row.size),
    sha256: row.sha256,
    sourceSha256: row.source_sha256,
    filename: row.filename,
    ...(meta.width !== undefined ? { width: meta.width } : {}),
    ...(meta.height !== undefined ? { height: meta.height } : {}),
    ...(meta.durationMs !== undefined ? { durationMs: meta.durationMs } : {}),
    ...(meta.placeholder !== undefined ? { placeholder: meta.placeholder } : {}),
    thumbnails: meta.thumbnails,
    blobKey: row.blob_key,
    createdAt: Number(row.created_at),
    attachment,
  };
}
