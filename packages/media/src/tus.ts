import { createReadStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, HTTP_STATUS, isNatterError } from '@natter/protocol';
import { FileStore } from '@tus/file-store';
import { Server, type Upload } from '@tus/server';
import type { MediaInfo, MediaPipeline } from './types.js';

/** What the owner hook gets when an upload has been ingested. */
export interface CompletedUpload {
  /** The user who created the upload (from `authenticate`). */
  userId: string;
  /** The tus upload id (its staging file is deleted once the hook returns). */
  uploadId: string;
  /** What the pipeline stored. */
  media: MediaInfo;
}

/** Options of {@link createTusUploads}. */
export interface TusUploadOptions {
  /** The pipeline every finished upload goes through (the same checks as a plain upload). */
  pipeline: MediaPipeline;
  /** Directory for upload parts in progress (`@tus/file-store`), e.g. `NATTER_DATA_DIR/uploads`. */
  stagingDir: string;
  /**
   * Route of the tus endpoint; uploads live at `path/<id>`.
   * @default '/v1/media/uploads'
   */
  path?: string;
  /**
   * Largest upload accepted: a larger `Upload-Length` is refused at creation (413), and no upload may
   * grow past it.
   * @default the pipeline's `maxUploadBytes`
   */
  maxUploadBytes?: number;
  /**
   * An unfinished upload is abandoned this long after it was created; `sweepExpired()` deletes it.
   * @default 86400000 (24 hours)
   */
  expireAfterMs?: number;
  /**
   * The auth hook: the user id behind a request, from its credentials. Throw (any error) or answer
   * `null` to refuse it with 401. Runs on every tus request; only the creator of an upload may touch it.
   */
  authenticate(request: Request): Promise<string | null>;
  /**
   * Called when an upload is created, with its declared `Upload-Length` (undefined when deferred): hold
   * what it needs (the media service reserves the user's quota). Throw a `NatterError` to refuse the
   * upload with that error before any byte is stored.
   */
  reserve?(upload: { userId: string; uploadId: string; size: number | undefined }): Promise<void>;
  /**
   * Called when an upload ends in any way (recorded, refused by the pipeline, terminated by its creator):
   * give back what `reserve` held. Must be idempotent.
   */
  release?(uploadId: string): Promise<void>;
  /**
   * Called once an upload has passed the pipeline, before the client gets its answer: record the
   * media (the server's media service) and answer the JSON body the client receives (its `201` body
   * for plain uploads). When it throws, the client gets 500 and the blobs are left to the orphan sweep.
   */
  onComplete(upload: CompletedUpload): Promise<unknown>;
}

/** A tus endpoint as a fetch-style handler. */
export interface TusUploads {
  /** Answers one tus request (`POST`, `HEAD`, `PATCH`, `DELETE`, `OPTIONS` under the route). */
  handle(request: Request): Promise<Response>;
  /** Deletes the parts of uploads abandoned for longer than `expireAfterMs`; answers how many. */
  sweepExpired(): Promise<number>;
}

/** Metadata key holding the creator's user id; set by the server, whatever the client sends. */
const OWNER = 'natter-owner';

/** A tus error answer: `@tus/server` sends `status_code` and `body` of a thrown object. */
function refusal(code: ErrorCode, message: string, status = HTTP_STATUS[code]) {
  return { status_code: status, body: JSON.stringify({ error: { code, message } }) };
}

/** The tus answer for an error of a hook: a natter error as itself, anything else as a 500. */
function refusalOf(error: unknown) {
  if (isNatterError(error)) return refusal(error.code, error.message);
  return refusal(ErrorCode.INTERNAL, 'internal server error');
}

/**
 * Resumable uploads (the tus protocol, `@tus/server` v2 with `@tus/file-store`): a client sends a big
 * file in pieces and resumes after a dropped connection. Parts are staged on disk; when the last byte
 * arrives the staged file runs through the same `ingest` as a plain upload (size limit, sniffed type,
 * allowlist, image checks), the owner's `onComplete` records it, and the staging file is deleted. The
 * last `PATCH` answers 200 with `onComplete`'s JSON; a refused file answers the natter error
 * (`{ error: { code, message } }`) with its HTTP status.
 *
 * One process owns a staging directory (the in-memory upload locks are per process): behind a load
 * balancer, route a given upload's requests to one node.
 */
export function createTusUploads(options: TusUploadOptions): TusUploads {
  const { pipeline, stagingDir } = options;
  const maxSize = options.maxUploadBytes ?? pipeline.maxUploadBytes;
  // Created here, synchronously: FileStore's own check runs in a callback that throws out of band.
  mkdirSync(stagingDir, { recursive: true, mode: 0o700 });
  const datastore = new FileStore({
    directory: stagingDir,
    expirationPeriodInMilliseconds: options.expireAfterMs ?? 86_400_000,
  });
  // The user of each request in flight, found once in onIncomingRequest.
  const users = new WeakMap<object, string>();

  async function authenticate(request: Request): Promise<string> {
    const userId = await options.authenticate(request).catch(() => null);
    if (!userId) throw refusal(ErrorCode.UNAUTHORIZED, 'missing or invalid credentials');
    return userId;
  }

  async function finish(request: Request, upload: Upload) {
    const userId = users.get(request) ?? (await authenticate(request));
    const file = path.join(stagingDir, upload.id);
    try {
      const media = await pipeline.ingest(createReadStream(file, { highWaterMark: 256 * 1024 }), {
        declaredType: upload.metadata?.filetype ?? null,
        declaredSize: upload.size ?? null,
        filename: upload.metadata?.filename ?? null,
      });
      const body = await options.onComplete({ userId, uploadId: upload.id, media });
      return {
        status_code: 200,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body ?? null),
      };
    } catch (error) {
      throw refusalOf(error);
    } finally {
      await datastore.remove(upload.id).catch(() => undefined);
      await options.release?.(upload.id).catch(() => undefined);
    }
  }

  const server = new Server({
    path: options.path ?? '/v1/media/uploads',
    datastore,
    maxSize,
    // Refuses before any byte is stored: unknown users, and anyone but the creator of an upload
    // (answered like a missing upload, so ids cannot be probed).
    async onIncomingRequest(request, uploadId) {
      const userId = await authenticate(request);
      users.set(request, userId);
      if (request.method === 'POST' || request.method === 'OPTIONS') return;
      // A missing upload is the handler's 404 to give; an existing one must be the caller's own.
      const upload = await datastore.getUpload(uploadId).catch(() => undefined);
      if (upload && upload.metadata?.[OWNER] !== userId) throw refusal(ErrorCode.NOT_FOUND, 'no such upload');
      // The creator cancels the upload: what it held is given back (the parts go with the DELETE).
      if (upload && request.method === 'DELETE') await options.release?.(upload.id).catch(() => undefined);
    },
    async onUploadCreate(request, upload) {
      const userId = users.get(request) ?? (await authenticate(request));
      try {
        await options.reserve?.({ userId, uploadId: upload.id, size: upload.size });
      } catch (error) {
        throw refusalOf(error);
      }
      return { metadata: { ...upload.metadata, [OWNER]: userId } };
    },
    onUploadFinish: finish,
  });

  return {
    handle: (request) => server.handleWeb(request),
    sweepExpired: () => server.cleanUpExpiredUploads(),
  };
}
