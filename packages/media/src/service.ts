import path from 'node:path';
import {
  type Attachment,
  ErrorCode,
  type MediaBody,
  type MediaUrlBody,
  NatterError,
  newPrefixedId,
} from '@natter/protocol';
import type {
  BlobStore,
  MediaClaim,
  MediaContext,
  MediaPlug,
  MediaPlugFactory,
  MediaVariant,
  MediaViewer,
} from '@natter/server-core';
import { serveBlob } from './download.js';
import { blobKeysOf, type MediaRecord, type MediaStore } from './media-store.js';
import { createMediaPipeline } from './pipeline.js';
import { UrlSigner } from './signed-url.js';
import { createTusUploads, type TusUploads } from './tus.js';
import type { MediaInfo, MediaPipeline, MediaPipelineOptions } from './types.js';

/** Options of {@link createMedia}. */
export interface MediaOptions {
  /** Where the bytes go (`@natter/blob-fs` or `@natter/blob-s3`); opened and closed with the server. */
  blobs: BlobStore;
  /** Where the metadata goes (`createSqliteMediaStore`, or PostgreSQL for clusters); opened with the server. */
  store: MediaStore;
  /** Pipeline settings: size limit, type allowlist, image and ffmpeg settings. */
  pipeline?: Omit<MediaPipelineOptions, 'blobs'>;
  /**
   * Bytes of uploads each user may keep (stored files; thumbnails are not counted); past it an upload is
   * refused with `NATTER_MEDIA_QUOTA_EXCEEDED`. An upload reserves its declared size when it starts (refused
   * at once when that would not fit next to the user's other uploads in progress) and is recorded only if
   * it still fits, in one media store transaction: concurrent uploads, on any node, never pass it.
   * @default 1073741824 (1 GiB)
   */
  quotaBytes?: number;
  /** An upload no message carries is deleted this long after it was made. @default 86400000 (24 h) */
  unattachedTtlMs?: number;
  /** How often unattached uploads, abandoned tus uploads and unreferenced blobs are swept. @default 600000 */
  sweepIntervalMs?: number;
  /**
   * Blobs younger than this are never deleted as unreferenced: an upload in flight may have stored the
   * same bytes and not yet recorded them (several nodes share one blob store).
   * @default 600000 (10 minutes)
   */
  blobGraceMs?: number;
  /** Secret of signed media URLs; every node of a cluster needs the same one. @default random per process */
  urlSecret?: string | Uint8Array;
  /**
   * With a blob store that can presign (S3): downloads answer a redirect to a presigned URL valid this many
   * seconds instead of streaming through the node; `false` streams always.
   * @default 300
   */
  presignTtlSeconds?: number | false;
  /** Resumable uploads (tus) staged under `stagingDir`; `false` turns them off. */
  tus?: { stagingDir: string; path?: string } | false;
  /** @default Date.now */
  now?: () => number;
}

const notFound = () => new NatterError(ErrorCode.NOT_FOUND, 'media not found');

/**
 * How long a plain upload's quota reservation counts if the node never releases it (a crash mid-upload);
 * far above any upload's duration, and it only delays other uploads of the same user, never stores more.
 */
const PLAIN_RESERVATION_MS = 3_600_000;

/** The reservation id of a tus upload: it lives from the upload's creation to its end. */
const tusReservation = (uploadId: string) => `tus:${uploadId}`;

/** The answer for an upload: the record as the client sees it. */
export function toMediaBody(record: MediaRecord, ttlMs: number): MediaBody {
  const { mediaId, ...fields } = toAttachment(record);
  return {
    id: mediaId,
    ...fields,
    sha256: record.sha256,
    sourceSha256: record.sourceSha256,
    expiresAt: record.attachment.state === 'unattached' ? record.createdAt + ttlMs : null,
  };
}

/** The metadata a message carries for an upload. */
export function toAttachment(record: MediaRecord): Attachment {
  return {
    mediaId: record.id,
    kind: record.kind,
    mime: record.mime,
    size: record.size,
    filename: record.filename,
    ...(record.width !== undefined ? { width: record.width } : {}),
    ...(record.height !== undefined ? { height: record.height } : {}),
    ...(record.durationMs !== undefined ? { durationMs: Math.round(record.durationMs) } : {}),
    ...(record.placeholder !== undefined ? { placeholder: record.placeholder } : {}),
    thumbnails: record.thumbnails.map(({ size, width, height }) => ({ size, width, height })),
  };
}

/**
 * Media in a natter server: pass `createMedia(...)` as `media` to `createNatterServer`. Uploads go through
 * the pipeline into the blob store and are recorded in the media store; a `send` claims them; downloads
 * are checked against the uploader and the members of the channel the upload was posted in.
 */
export function createMedia(options: MediaOptions): MediaPlugFactory {
  return (context) => new MediaService(options, context);
}

/** The media service behind {@link createMedia}; construct it directly to use it without a server. */
export class MediaService implements MediaPlug {
  readonly pipeline: MediaPipeline;
  readonly tusPath: string | undefined;
  private readonly tusUploads: TusUploads | undefined;
  private readonly signer: UrlSigner;
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly graceMs: number;
  private readonly quota: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private sweeping: Promise<void> | undefined;
  /** Serialises recording uploads and deleting blobs, so a blob is never deleted under a new record. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: MediaOptions,
    private readonly context: MediaContext,
  ) {
    this.pipeline = createMediaPipeline({ ...options.pipeline, blobs: options.blobs });
    this.signer = new UrlSigner(options.urlSecret);
    this.now = options.now ?? Date.now;
    this.ttlMs = options.unattachedTtlMs ?? 86_400_000;
    this.graceMs = options.blobGraceMs ?? 600_000;
    this.quota = options.quotaBytes ?? 1024 ** 3;
    const tus = options.tus;
    this.tusPath = tus ? (tus.path ?? '/v1/media/uploads') : undefined;
    this.tusUploads = tus
      ? createTusUploads({
          pipeline: this.pipeline,
          stagingDir: tus.stagingDir,
          path: this.tusPath!,
          expireAfterMs: this.ttlMs,
          authenticate: async (request) => {
            const match = /^Bearer +(\S+) *$/i.exec(request.headers.get('authorization') ?? '');
            return match ? context.authenticate(match[1]!) : null;
          },
          reserve: async ({ userId, uploadId, size }) => {
            const now = this.now();
            const reservation = {
              id: tusReservation(uploadId),
              ownerId: userId,
              bytes: Math.max(1, size ?? 0),
              expiresAt: now + this.ttlMs,
            };
            if (!(await options.store.reserve(reservation, this.quota, now))) throw this.quotaExceeded();
          },
          release: (uploadId) => options.store.release(tusReservation(uploadId)),
          onComplete: ({ userId, uploadId, media }) => this.record(userId, media, tusReservation(uploadId)),
        })
      : undefined;
  }

  private quotaExceeded(): NatterError {
    return new NatterError(ErrorCode.MEDIA_QUOTA_EXCEEDED, `media quota of ${this.quota} bytes exceeded`);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  async start(): Promise<void> {
    await this.options.blobs.open();
    await this.options.store.open();
    const every = this.options.sweepIntervalMs ?? 600_000;
    this.timer = setInterval(
      () =>
        void this.sweep().catch((err: unknown) => this.context.logger.warn({ err }, 'media sweep failed')),
      every,
    );
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => undefined);
    await this.options.store.close();
    await this.options.blobs.close();
  }

  async upload(request: Request, userId: string, filename: string | undefined): Promise<MediaBody> {
    const { store } = this.options;
    if (!request.body) throw new NatterError(ErrorCode.BAD_REQUEST, 'the upload has no body');
    const declared = request.headers.get('content-length');
    const declaredSize = declared === null ? null : Number(declared);
    // Holds the declared size (at least a byte: a full quota refuses before anything is read; at most the
    // limit, which the pipeline enforces with its own error) until the upload is recorded or fails.
    const now = this.now();
    const reservation = {
      id: newPrefixedId('r', now),
      ownerId: userId,
      bytes: Math.min(Math.max(1, declaredSize ?? 0), this.pipeline.maxUploadBytes),
      expiresAt: now + PLAIN_RESERVATION_MS,
    };
    if (!(await store.reserve(reservation, this.quota, now))) throw this.quotaExceeded();
    try {
      const info = await this.pipeline.ingest(request.body, {
        declaredType: request.headers.get('content-type'),
        declaredSize,
        filename: filename ?? null,
        signal: request.signal,
      });
      return await this.record(userId, info, reservation.id);
    } finally {
      await store.release(reservation.id).catch(() => undefined);
    }
  }

  /**
   * Records what the pipeline stored (or answers the same unattached upload again), if it fits in the
   * owner's quota: checked and inserted in one media store transaction, which also drops the upload's
   * reservation.
   */
  private record(userId: string, info: MediaInfo, reservationId: string): Promise<MediaBody> {
    const { store, blobs } = this.options;
    return this.exclusive(async () => {
      const earlier = await store.findUnattached(userId, info.source.sha256);
      if (earlier) return toMediaBody(earlier, this.ttlMs);
      const keys = [info.blobKey, ...info.thumbnails.map((t) => t.blobKey)];
      // A release may have deleted a blob with these bytes while the pipeline ran; try again then.
      for (const key of keys) {
        if (!(await blobs.head(key)))
          throw new NatterError(ErrorCode.UNAVAILABLE, 'upload raced a delete', 100);
      }
      const record: MediaRecord = {
        id: newPrefixedId('m', this.now()),
        ownerId: userId,
        kind: info.kind,
        mime: info.mime,
        size: info.size,
        sha256: info.sha256,
        sourceSha256: info.source.sha256,
        filename: info.filename,
        ...(info.width !== undefined ? { width: info.width } : {}),
        ...(info.height !== undefined ? { height: info.height } : {}),
        ...(info.durationMs !== undefined ? { durationMs: info.durationMs } : {}),
        ...(info.placeholder !== undefined ? { placeholder: info.placeholder } : {}),
        thumbnails: info.thumbnails,
        blobKey: info.blobKey,
        createdAt: this.now(),
        attachment: { state: 'unattached' },
      };
      if (!(await store.insertWithinQuota(record, this.quota, reservationId))) throw this.quotaExceeded();
      return toMediaBody(record, this.ttlMs);
    });
  }

  /** The record when `viewer` may see it: the uploader, a member of the channel it was posted in, a signed URL. */
  private async visible(viewer: MediaViewer, mediaId: string): Promise<MediaRecord> {
    const record = await this.options.store.get(mediaId);
    if (!record) throw notFound();
    if (viewer.kind === 'signed' || record.ownerId === viewer.userId) return record;
    const { attachment } = record;
    if (
      attachment.state === 'attached' &&
      (await this.context.isMember(attachment.channelId, viewer.userId))
    ) {
      return record;
    }
    throw notFound();
  }

  async download(
    request: Request,
    viewer: MediaViewer,
    mediaId: string,
    variant: MediaVariant,
  ): Promise<Response> {
    const record = await this.visible(viewer, mediaId);
    const presign = this.options.presignTtlSeconds ?? 300;
    const ttl = presign === false ? undefined : presign;
    if (variant.kind === 'file') {
      return serveBlob(
        request,
        this.options.blobs,
        { key: record.blobKey, mime: record.mime, filename: record.filename },
        ttl,
      );
    }
    const thumbnail =
      variant.size === undefined
        ? record.thumbnails[0]
        : record.thumbnails.find((t) => t.size === variant.size);
    if (!thumbnail) throw new NatterError(ErrorCode.NOT_FOUND, 'no such thumbnail');
    const base = record.filename.replace(/\.[^.]*$/, '');
    return serveBlob(
      request,
      this.options.blobs,
      { key: thumbnail.blobKey, mime: 'image/webp', filename: `${base}-${thumbnail.size}.webp` },
      ttl,
    );
  }

  async signUrl(
    userId: string,
    mediaId: string,
    thumbnailSize: number | undefined,
    ttlMs: number,
  ): Promise<MediaUrlBody> {
    const record = await this.visible({ kind: 'user', userId }, mediaId);
    if (thumbnailSize !== undefined && !record.thumbnails.some((t) => t.size === thumbnailSize)) {
      throw new NatterError(ErrorCode.NOT_FOUND, 'no such thumbnail');
    }
    const pathname = `/v1/media/${encodeURIComponent(mediaId)}${thumbnailSize === undefined ? '' : '/thumbnail'}`;
    const expiresAt = this.now() + ttlMs;
    const query = new URLSearchParams();
    if (thumbnailSize !== undefined) query.set('size', String(thumbnailSize));
    query.set('exp', String(expiresAt));
    query.set('sig', this.signer.sign(pathname, expiresAt));
    return { url: `${pathname}?${query}`, expiresAt };
  }

  verifySignedUrl(pathname: string, exp: number, sig: string): boolean {
    return this.signer.verify(pathname, exp, sig, this.now());
  }

  async claim(
    userId: string,
    channelId: string,
    clientMsgId: string,
    mediaIds: readonly string[],
  ): Promise<MediaClaim> {
    const { store } = this.options;
    // One token per send: a retry of the same clientMsgId may claim the same uploads again.
    const token = `${userId}\n${clientMsgId}`;
    const result = await store.claim(userId, mediaIds, channelId, token, this.now());
    if (result.kind === 'notFound') throw notFound();
    if (result.kind === 'taken') {
      throw new NatterError(
        ErrorCode.MEDIA_ALREADY_ATTACHED,
        `media ${result.mediaId} is attached to another message`,
      );
    }
    return {
      attachments: result.records.map(toAttachment),
      commit: (seq) => store.commit(token, seq),
      cancel: () => store.cancel(token),
    };
  }

  async tus(request: Request): Promise<Response> {
    if (!this.tusUploads) throw new NatterError(ErrorCode.NOT_FOUND, 'no such endpoint');
    return this.tusUploads.handle(request);
  }

  /**
   * Forgets the uploads a message carried (the message was deleted): nobody can fetch them any more,
   * and their blobs are deleted when no other upload references the same bytes.
   */
  async releaseMessage(channelId: string, seq: number): Promise<void> {
    await this.exclusive(async () => {
      const released = await this.options.store.releaseMessage(channelId, seq);
      await this.deleteUnreferenced(released.flatMap(blobKeysOf));
    });
  }

  /**
   * One sweep: unattached uploads past the TTL, abandoned tus uploads, then blobs no record references
   * (left by failed or refused uploads). The server runs it every `sweepIntervalMs`.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const { store, blobs } = this.options;
    for (;;) {
      const swept = await this.exclusive(async () => {
        const records = await store.sweepUnattached(this.now() - this.ttlMs, 500);
        await this.deleteUnreferenced(records.flatMap(blobKeysOf));
        return records.length;
      });
      if (swept < 500) break;
    }
    await this.tusUploads?.sweepExpired();
    let batch: string[] = [];
    const flush = async () => {
      const keys = batch;
      batch = [];
      await this.exclusive(() => this.deleteUnreferenced(keys));
    };
    for await (const blob of blobs.list()) {
      if (blob.modifiedAt > this.now() - this.graceMs) continue;
      batch.push(blob.key);
      if (batch.length >= 200) await flush();
    }
    await flush();
  }

  /** Deletes the blobs among `keys` that no record references and that are older than the grace time. */
  private async deleteUnreferenced(keys: readonly string[]): Promise<void> {
    const { store, blobs } = this.options;
    const unique = [...new Set(keys)];
    if (unique.length === 0) return;
    const referenced = await store.referencedKeys(unique);
    for (const key of unique) {
      if (referenced.has(key)) continue;
      const stat = await blobs.head(key);
      if (stat && stat.modifiedAt <= this.now() - this.graceMs) await blobs.delete(key);
    }
  }
}

/** Where the default stores live under a data directory (`NATTER_DATA_DIR`). */
export function defaultMediaPaths(dataDir: string): { blobs: string; metadata: string; staging: string } {
  return {
    blobs: path.join(dataDir, 'media'),
    metadata: path.join(dataDir, 'media.sqlite'),
    staging: path.join(dataDir, 'uploads'),
  };
}
