import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { abortableSource } from '@natter/server-core';
import { tooLarge, typeNotAllowed } from './errors.js';
import { sanitizeFilename } from './filename.js';
import { type ImageSettings, processImage } from './image.js';
import { meteredSource, peek } from './metered-source.js';
import { isAllowedType, SNIFF_BYTES, sniff } from './sniff.js';
import { fileSource, spoolToFile, workDir } from './spool.js';
import type {
  IngestOptions,
  MediaInfo,
  MediaPipeline,
  MediaPipelineOptions,
  MediaThumbnail,
} from './types.js';
import { type FfmpegSettings, inspectVideo } from './video.js';

/** Default `maxUploadBytes`: 25 MiB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

/** Default image settings. */
export const DEFAULT_IMAGE_SETTINGS: Readonly<ImageSettings> = {
  maxSide: 2048,
  quality: 80,
  thumbnailSizes: [320, 800],
  maxInputPixels: 50_000_000,
};

/**
 * Creates the media ingestion pipeline `POST /v1/media` and finished tus uploads run.
 *
 * @example
 * ```ts
 * const blobs = createFsBlobStore({ root: path.join(dataDir, 'media') });
 * await blobs.open();
 * const media = createMediaPipeline({ blobs, allowedTypes: ['image/*', 'video/*', 'application/pdf'] });
 * const info = await media.ingest(request.body!, {
 *   declaredType: request.headers.get('content-type'),
 *   declaredSize: Number(request.headers.get('content-length')) || null,
 *   filename: url.searchParams.get('filename'),
 * });
 * ```
 */
export function createMediaPipeline(options: MediaPipelineOptions): MediaPipeline {
  const { blobs } = options;
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const allowedTypes = options.allowedTypes ?? ['*/*'];
  const image: ImageSettings = { ...DEFAULT_IMAGE_SETTINGS, ...options.image };
  const tempDir = options.tempDir ?? path.join(os.tmpdir(), 'natter-media');
  const ffmpeg: FfmpegSettings =
    options.ffmpeg === false
      ? false
      : {
          ...(options.ffmpeg ?? { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }),
          timeoutMs: options.ffmpegTimeoutMs ?? 30_000,
        };

  async function ingest(
    source: AsyncIterable<Uint8Array>,
    ingestOptions: IngestOptions = {},
  ): Promise<MediaInfo> {
    const { declaredSize, signal } = ingestOptions;
    if (declaredSize != null && declaredSize > maxUploadBytes) throw tooLarge(maxUploadBytes);
    const metered = meteredSource(abortableSource(source, signal), maxUploadBytes);
    const { head, all, cancel } = await peek(metered, SNIFF_BYTES);
    const { mime, ext, kind } = await sniff(head);
    if (!isAllowedType(mime, allowedTypes)) {
      // Cancel the upload: the rest is never read.
      await cancel();
      throw typeNotAllowed(mime);
    }
    const base = {
      mime,
      filename: sanitizeFilename(ingestOptions.filename, ext),
      declaredType: ingestOptions.declaredType ?? null,
    };

    if (kind === 'file') {
      const stored = await blobs.put(all);
      return {
        kind,
        blobKey: stored.key,
        mime,
        size: stored.size,
        sha256: stored.sha256,
        thumbnails: [],
        filename: base.filename,
        source: { size: metered.bytes, sha256: metered.digest(), declaredType: base.declaredType },
      };
    }

    const dir = await workDir(tempDir);
    try {
      const input = path.join(dir, `upload.${ext}`);
      await spoolToFile(all, input);
      const received = { size: metered.bytes, sha256: metered.digest(), declaredType: base.declaredType };
      if (kind === 'image') {
        const processed = await processImage(input, mime, image, dir);
        const stored = await blobs.put(fileSource(processed.file));
        return {
          kind,
          blobKey: stored.key,
          mime,
          size: stored.size,
          sha256: stored.sha256,
          width: processed.width,
          height: processed.height,
          placeholder: processed.placeholder,
          thumbnails: await storeThumbnails(processed.thumbnails),
          filename: base.filename,
          source: received,
        };
      }
      // Video: stored as received; poster thumbnails and facts when ffmpeg can read it.
      const facts = await inspectVideo(input, ffmpeg, dir);
      const poster = facts.poster
        ? await processImage(facts.poster, 'image/png', image, dir).catch(() => undefined)
        : undefined;
      const stored = await blobs.put(fileSource(input));
      return {
        kind,
        blobKey: stored.key,
        mime,
        size: stored.size,
        sha256: stored.sha256,
        ...(facts.width ? { width: facts.width, height: facts.height } : {}),
        ...(facts.durationMs === undefined ? {} : { durationMs: facts.durationMs }),
        ...(poster ? { placeholder: poster.placeholder } : {}),
        thumbnails: poster ? await storeThumbnails(poster.thumbnails) : [],
        filename: base.filename,
        source: received,
      };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  async function storeThumbnails(
    thumbnails: Array<{ size: number; width: number; height: number; data: Buffer }>,
  ): Promise<MediaThumbnail[]> {
    const stored: MediaThumbnail[] = [];
    for (const thumbnail of thumbnails) {
      const { key, size: bytes } = await blobs.put(oneChunk(thumbnail.data));
      stored.push({
        size: thumbnail.size,
        width: thumbnail.width,
        height: thumbnail.height,
        blobKey: key,
        bytes,
      });
    }
    return stored;
  }

  return { ingest, maxUploadBytes };
}

/** A small in-memory result (a thumbnail) as a blob source. */
async function* oneChunk(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}
