import type { Attachment, MediaBody, MediaUrlBody } from '@natter/protocol';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';

/** Who asks for a file: a user with a bearer token, or the holder of a signed URL the server issued. */
export type MediaViewer = { kind: 'user'; userId: string } | { kind: 'signed' };

/** Which bytes of an upload a download asks for. */
export type MediaVariant = { kind: 'file' } | { kind: 'thumbnail'; size: number | undefined };

/** A `send`'s uploads, claimed for one message before it is stored. */
export interface MediaClaim {
  /** The metadata each attachment carries in the message, in the order named. */
  attachments: Attachment[];
  /** Records the stored message's seq (after the commit), so deleting the message can release them. */
  commit(seq: number): Promise<void>;
  /** Gives the uploads back when the message was not stored (not a member, a failed write). */
  cancel(): Promise<void>;
}

/**
 * Media in the server (`@natter/media`'s `createMedia(...)`): uploads, downloads and attachments. The core
 * routes HTTP requests and `send`s here; image processing, blob and metadata stores live behind it, so
 * server-core never loads sharp or an S3 client.
 */
export interface MediaPlug {
  /** `POST /v1/media`: streams `request.body` through the pipeline and records the upload. */
  upload(request: Request, userId: string, filename: string | undefined): Promise<MediaBody>;
  /**
   * `GET /v1/media/{id}` and `/thumbnail`: the response (200, 206 for a `Range`, 304, or a redirect to a
   * presigned URL). Rejects with `NATTER_NOT_FOUND` for a missing id and for a viewer who may not see it.
   */
  download(request: Request, viewer: MediaViewer, mediaId: string, variant: MediaVariant): Promise<Response>;
  /** `POST /v1/media/{id}/url`: a signed URL for a user who may see the upload. */
  signUrl(
    userId: string,
    mediaId: string,
    thumbnailSize: number | undefined,
    ttlMs: number,
  ): Promise<MediaUrlBody>;
  /** True when `exp` and `sig` sign this path and have not expired. */
  verifySignedUrl(pathname: string, exp: number, sig: string): boolean;
  /**
   * Claims a `send`'s uploads for its message: each must be the sender's and not carried by another
   * message (a retry of the same `clientMsgId` may claim them again). Rejects with `NATTER_NOT_FOUND`
   * (not the sender's, or missing) or `NATTER_MEDIA_ALREADY_ATTACHED`.
   */
  claim(
    userId: string,
    channelId: string,
    clientMsgId: string,
    mediaIds: readonly string[],
  ): Promise<MediaClaim>;
  /**
   * The message `seq` of `channelId` was deleted: its uploads become unreachable, and their blobs are
   * deleted when nothing else references the same bytes.
   */
  releaseMessage(channelId: string, seq: number): Promise<void>;
  /** The tus endpoint's path prefix, when resumable uploads are on. */
  readonly tusPath: string | undefined;
  /** Answers a tus request under {@link tusPath}. */
  tus(request: Request): Promise<Response>;
  /** Opens the stores and starts the sweeper; called by the server's `start()`. */
  start(): Promise<void>;
  /** Stops the sweeper and closes the stores. */
  stop(): Promise<void>;
}

/** What media may use of the running server. */
export interface MediaContext {
  logger: Logger;
  metrics: NatterMetrics;
  /** The user behind a bearer token (rejects for a bad one), for the tus endpoint's requests. */
  authenticate(token: string): Promise<string>;
  /** Whether a user is a member of a channel now: members of a channel where an upload was posted see it. */
  isMember(channelId: string, userId: string): Promise<boolean>;
}

/** Builds media once the server's parts exist. */
export type MediaPlugFactory = (context: MediaContext) => MediaPlug;
