import * as v from 'valibot';
import { MEDIA_LIMITS } from '../limits.js';
import { MediaBodySchema, MediaUrlBodySchema } from '../schemas/media.js';

/** `POST /v1/media?filename=`: the bytes are the body; the name is sanitised before it is stored. */
export const UploadQuerySchema = v.object({
  filename: v.optional(v.pipe(v.string(), v.maxLength(1024))),
});

/**
 * A signed media URL's query: `exp` (ms since the epoch) and `sig` (base64url HMAC of the path and `exp`),
 * which stand in for the bearer token on the download routes.
 */
const SignedQuery = {
  exp: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  sig: v.optional(v.pipe(v.string(), v.maxLength(128))),
};

/** `GET /v1/media/{id}`. */
export const MediaQuerySchema = v.object(SignedQuery);

/** `GET /v1/media/{id}/thumbnail?size=`. */
export const ThumbnailQuerySchema = v.object({
  size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000))),
  ...SignedQuery,
});

/** `POST /v1/media/{id}/url`. */
export const MediaUrlRequestSchema = v.object({
  /** The thumbnail to sign instead of the file. */
  thumbnailSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000))),
  /** Lifetime of the URL, ms. */
  ttlMs: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1_000), v.maxValue(MEDIA_LIMITS.maxSignedUrlTtlMs)),
  ),
});

/**
 * The media routes (mounted when the server has media configured; otherwise 404). Their specs satisfy
 * `RouteSpec` in routes.ts, where they join `ROUTES`. Uploads and downloads are bytes, not JSON:
 * `rawBody` and `binary` say so to the router, the client and the OpenAPI document.
 */
export const MEDIA_ROUTES = {
  uploadMedia: {
    method: 'POST',
    path: '/v1/media',
    auth: true,
    tag: 'media',
    summary:
      'Uploads a file (the body, streamed); its type is sniffed from the bytes. Images are re-encoded without metadata and get thumbnails.',
    query: UploadQuerySchema,
    rawBody: true,
    response: MediaBodySchema,
    status: 201,
    errors: [
      'NATTER_MEDIA_TOO_LARGE',
      'NATTER_MEDIA_QUOTA_EXCEEDED',
      'NATTER_MEDIA_TYPE_NOT_ALLOWED',
      'NATTER_MEDIA_INVALID',
    ],
  },
  getMedia: {
    method: 'GET',
    path: '/v1/media/{id}',
    // A bearer token or a signed URL's `exp` and `sig`: the handler checks one of them.
    auth: false,
    tag: 'media',
    summary:
      'The file, for its uploader and the members of a channel where it was posted (bearer token or signed URL); Range, ETag, immutable.',
    query: MediaQuerySchema,
    binary: true,
    status: 200,
    errors: ['NATTER_UNAUTHORIZED', 'NATTER_NOT_FOUND', 'NATTER_RANGE_NOT_SATISFIABLE'],
  },
  getThumbnail: {
    method: 'GET',
    path: '/v1/media/{id}/thumbnail',
    auth: false,
    tag: 'media',
    summary: 'A WebP thumbnail (`size` one of the upload’s thumbnail sizes; the smallest by default).',
    query: ThumbnailQuerySchema,
    binary: true,
    status: 200,
    errors: ['NATTER_UNAUTHORIZED', 'NATTER_NOT_FOUND', 'NATTER_RANGE_NOT_SATISFIABLE'],
  },
  mediaUrl: {
    method: 'POST',
    path: '/v1/media/{id}/url',
    auth: true,
    tag: 'media',
    summary:
      'A short-lived signed URL for the file or a thumbnail, for <img src> without the access token in the URL.',
    body: MediaUrlRequestSchema,
    response: MediaUrlBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
} as const;

/** The validated query of `POST /v1/media`. */
export type UploadQuery = v.InferOutput<typeof UploadQuerySchema>;
/** What `POST /v1/media/{id}/url` takes. */
export type MediaUrlRequest = v.InferInput<typeof MediaUrlRequestSchema>;
