import * as v from 'valibot';
import { IdSchema, UintSchema } from './primitives.js';

/** How the server treated an upload: re-encoded image, video (poster thumbnails with ffmpeg), other file. */
export const MediaKindSchema = v.picklist(['image', 'video', 'file']);

/** One WebP thumbnail of an image or video poster. */
export const MediaThumbnailSchema = v.object({
  /** The configured size (longest side bound); ask for it with `GET /v1/media/{id}/thumbnail?size=`. */
  size: UintSchema,
  width: UintSchema,
  height: UintSchema,
});

const MediaFields = {
  kind: MediaKindSchema,
  /** Type sniffed from the bytes (never the uploader's header); `application/octet-stream` when unknown. */
  mime: v.pipe(v.string(), v.maxLength(255)),
  /** Bytes of the stored file. */
  size: UintSchema,
  /** The sanitised file name (no path, no control characters). */
  filename: v.pipe(v.string(), v.maxLength(255)),
  width: v.optional(UintSchema),
  height: v.optional(UintSchema),
  durationMs: v.optional(UintSchema),
  /** ThumbHash (base64) of the image or poster: draw it blurred until the thumbnail arrives. */
  placeholder: v.optional(v.pipe(v.string(), v.maxLength(200))),
  /** Thumbnails, smallest first; empty for files. */
  thumbnails: v.pipe(v.array(MediaThumbnailSchema), v.maxLength(8)),
};

/** An attachment as a message carries it: the upload's metadata, fixed when it was sent. */
export const AttachmentSchema = v.object({
  /** The upload's id: `GET /v1/media/{mediaId}` for the file, `/thumbnail?size=` for a thumbnail. */
  mediaId: IdSchema,
  ...MediaFields,
});

/** `POST /v1/media` (and the last tus `PATCH`): what the server stored. */
export const MediaBodySchema = v.object({
  /** The upload's id, for `send({ attachments: [{ mediaId }] })`. */
  id: IdSchema,
  ...MediaFields,
  /** SHA-256 (hex) of the stored bytes; also the download's `ETag`. */
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  /** SHA-256 (hex) of the bytes as uploaded: the same bytes uploaded again answer the same upload. */
  sourceSha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  /** When the upload is swept unless a message carries it, ms since the epoch; null once attached. */
  expiresAt: v.nullable(UintSchema),
});

/** `POST /v1/media/{id}/url`: a signed URL that shows the file (or a thumbnail) without a bearer token. */
export const MediaUrlBodySchema = v.object({
  /** Path and query (`/v1/media/{id}?exp=&sig=`), relative to the API's origin. */
  url: v.string(),
  /** When the signature stops working, ms since the epoch. */
  expiresAt: UintSchema,
});

/** One attachment of a `send`: an upload of the sender's not yet attached to any message. */
export const AttachmentRefSchema = v.object({ mediaId: IdSchema });

/** An attachment as a message carries it. */
export type Attachment = v.InferOutput<typeof AttachmentSchema>;
/** What the server answers for an upload. */
export type MediaBody = v.InferOutput<typeof MediaBodySchema>;
/** One thumbnail. */
export type MediaThumbnailInfo = v.InferOutput<typeof MediaThumbnailSchema>;
/** A signed media URL. */
export type MediaUrlBody = v.InferOutput<typeof MediaUrlBodySchema>;
