import type { BlobStore } from '@natter/server-core';

/** Image processing settings of {@link MediaPipelineOptions}. */
export interface ImageOptions {
  /**
   * Longest side of the stored image, in pixels: larger images are scaled down to it.
   * @default 2048
   */
  maxSide?: number;
  /**
   * Encoder quality (1-100) for JPEG, WebP and AVIF output, the stored image and the thumbnails.
   * @default 80
   */
  quality?: number;
  /**
   * Longest side of each WebP thumbnail, in pixels; one thumbnail per entry.
   * @default [320, 800]
   */
  thumbnailSizes?: number[];
  /**
   * Largest image accepted, in pixels (width x height, as its header claims, before anything is
   * decoded): the guard against decompression bombs. A 50 MP phone photo fits.
   * @default 50000000
   */
  maxInputPixels?: number;
}

/** Options of `createMediaPipeline`. */
export interface MediaPipelineOptions {
  /** Where the bytes go; opened by the caller. */
  blobs: BlobStore;
  /**
   * Largest upload accepted, in bytes; the upload is refused with `NATTER_MEDIA_TOO_LARGE` as soon as it
   * would pass it (or at once, when the declared size does).
   * @default 26214400 (25 MiB)
   */
  maxUploadBytes?: number;
  /**
   * Types accepted, matched against the type sniffed from the bytes: exact (`application/pdf`) or a
   * family (`image/*`), or `*\/*` for anything. Files whose type cannot be recognised count as
   * `application/octet-stream`. Anything else is refused with `NATTER_MEDIA_TYPE_NOT_ALLOWED`.
   * @default ['*\/*']
   */
  allowedTypes?: string[];
  /** Image processing settings. */
  image?: ImageOptions;
  /**
   * Directory for the pipeline's temp files (images and videos are spooled there while processed);
   * each upload gets its own subdirectory, removed when it is done.
   * @default os.tmpdir()/natter-media
   */
  tempDir?: string;
  /**
   * `ffmpeg` and `ffprobe` executables for video posters and durations; `false` turns video
   * processing off. When they are not installed, videos are stored without a poster.
   * @default { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }
   */
  ffmpeg?: { ffmpeg: string; ffprobe: string } | false;
  /**
   * Longest time one ffmpeg or ffprobe run may take, in ms (a hostile video must not hold a worker).
   * @default 30000
   */
  ffmpegTimeoutMs?: number;
}

/** What the uploader said about the upload; never trusted for the type. */
export interface IngestOptions {
  /** The `Content-Type` the client sent. Recorded, compared with the sniffed type, never used as it. */
  declaredType?: string | null;
  /** The `Content-Length` (or tus `Upload-Length`); when above the limit, refused before reading. */
  declaredSize?: number | null;
  /** The file name the client sent; sanitised before it is stored. */
  filename?: string | null;
  /** Aborts the ingestion (e.g. the client disconnected); nothing is stored. */
  signal?: AbortSignal;
}

/** One stored thumbnail. */
export interface MediaThumbnail {
  /** The configured size (longest side bound) this thumbnail was made for. */
  size: number;
  /** Actual width in pixels (at most `size`). */
  width: number;
  /** Actual height in pixels (at most `size`). */
  height: number;
  /** Blob key of the WebP bytes. */
  blobKey: string;
  /** Bytes of the WebP file. */
  bytes: number;
}

/** How the pipeline treated an upload. */
export type MediaKind = 'image' | 'video' | 'file';

/** The result of ingesting one upload: what the server records and answers. */
export interface MediaInfo {
  /** `image` (re-encoded, thumbnails), `video` (stored as is, poster thumbnails when ffmpeg runs) or `file`. */
  kind: MediaKind;
  /** Blob key of the stored bytes (the re-encoded image for images; the upload itself otherwise). */
  blobKey: string;
  /** Type sniffed from the bytes (never the declared one); `application/octet-stream` when unknown. */
  mime: string;
  /** Size of the stored bytes. */
  size: number;
  /** SHA-256 (hex) of the stored bytes: the blob key, and a strong `ETag`. */
  sha256: string;
  /** Pixel width of the stored image or of the video. */
  width?: number;
  /** Pixel height of the stored image or of the video. */
  height?: number;
  /** Duration of a video, when ffprobe could tell. */
  durationMs?: number;
  /** ThumbHash of the image (or video poster), base64: a blurred preview clients draw at once. */
  placeholder?: string;
  /** WebP thumbnails, smallest first; empty for files (and for videos without ffmpeg). */
  thumbnails: MediaThumbnail[];
  /** Sanitised file name, safe for `Content-Disposition`. */
  filename: string;
  /** The upload as received, before any re-encoding. */
  source: {
    /** Bytes received. */
    size: number;
    /** SHA-256 (hex) of the bytes received: what a client can hash to make an upload idempotent. */
    sha256: string;
    /** The declared `Content-Type`, for logs; never trusted. */
    declaredType: string | null;
  };
}

/** The ingestion pipeline: `POST /v1/media` and tus uploads run `ingest`. */
export interface MediaPipeline {
  /**
   * Streams an upload through the checks (size limit, sniffed type, allowlist), processes images and
   * videos, stores the results in the blob store and describes them. Rejects with a `NatterError`
   * (`NATTER_MEDIA_TOO_LARGE`, `NATTER_MEDIA_TYPE_NOT_ALLOWED`, `NATTER_MEDIA_INVALID`), or with a
   * blob store error when storing fails; nothing half-processed is described. Blobs stored before a
   * later step failed are unreferenced and left to the media service's orphan sweep (the same bytes
   * may belong to another upload, so only reference counting may delete them).
   */
  ingest(source: AsyncIterable<Uint8Array>, options?: IngestOptions): Promise<MediaInfo>;
  /** The resolved limit, for callers that check `Content-Length` themselves. */
  readonly maxUploadBytes: number;
}
