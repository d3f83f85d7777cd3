/**
 * natter's media ingestion: streamed uploads with a hard size limit, types sniffed from the bytes,
 * images re-encoded without metadata, WebP thumbnails and ThumbHash placeholders, video posters through
 * ffmpeg, and resumable uploads through tus.
 * @packageDocumentation
 */

export { parseRange } from './download.js';
export { contentDisposition, MAX_FILENAME_BYTES, sanitizeFilename } from './filename.js';
export {
  blobKeysOf,
  type ClaimResult,
  type MediaAttachment,
  type MediaRecord,
  type MediaStore,
  type QuotaReservation,
} from './media-store.js';
export { createMediaPipeline, DEFAULT_IMAGE_SETTINGS, DEFAULT_MAX_UPLOAD_BYTES } from './pipeline.js';
export {
  createMedia,
  defaultMediaPaths,
  type MediaOptions,
  MediaService,
  toAttachment,
  toMediaBody,
} from './service.js';
export { isAllowedType, isInlineSafe, OPAQUE_TYPE } from './sniff.js';
export {
  createSqliteMediaStore,
  MEDIA_SCHEMA_VERSION,
  type SqliteMediaStoreOptions,
} from './sqlite-store.js';
export { type CompletedUpload, createTusUploads, type TusUploadOptions, type TusUploads } from './tus.js';
export type {
  ImageOptions,
  IngestOptions,
  MediaInfo,
  MediaKind,
  MediaPipeline,
  MediaPipelineOptions,
  MediaThumbnail,
} from './types.js';
