import { ErrorCode, type MediaBody, NatterError } from '@natter/protocol';
import { downloadEncryptedFile, type EncryptedFileInput, uploadEncryptedFiles } from './e2ee/attachments.js';
import type { EncryptedFileRef } from './e2ee/encrypted-file.js';
import type { HttpClient } from './http.js';
import { type OutboxAttachment, toBase64, toBytes, type UploadData, type UploadOptions } from './media.js';
import { ResumableUploads, type ResumeStore, uploadFingerprint } from './resumable-uploads.js';

/** A file handed to `sendFiles`. */
export interface FileToSend {
  data: UploadData;
  filename?: string;
  contentType?: string;
}

interface ClientMediaDeps {
  http: HttpClient;
  store: ResumeStore;
  now: () => number;
  /** The signed-in user: resumable uploads are keyed by user, so another user never resumes them. */
  userId: () => string | undefined;
  /** Resolves once the client store is open (the resumable uploads' URLs live in it). */
  ready: () => Promise<void>;
}

/**
 * The client's uploads and downloads: plain and resumable (tus) uploads, files of a message turned into
 * outbox attachments, and encrypted attachments. `interrupt()` (the client's `close()`) stops the uploads
 * in flight; resumable ones keep their URL in the client store and resume in the next instance.
 */
export class ClientMedia {
  /** URLs of unfinished resumable uploads, kept in the client store across restarts. */
  private readonly resumable: ResumableUploads;
  /** Aborted by `interrupt()`, then replaced for the uploads of the next connection. */
  private interrupted = new AbortController();

  constructor(private readonly deps: ClientMediaDeps) {
    this.resumable = new ResumableUploads(deps.store, deps.now);
  }

  /** Stops the uploads in flight (resumable ones stay resumable). */
  interrupt(): void {
    this.interrupted.abort();
    this.interrupted = new AbortController();
  }

  /**
   * The outbox attachments of files sent with a message: their bytes are kept in the client store with the
   * outbox entry, so a message written offline is uploaded and sent when the connection is back.
   */
  async attachmentsOf(
    files: readonly FileToSend[],
    resumableChunkBytes?: number,
  ): Promise<OutboxAttachment[]> {
    const attachments: OutboxAttachment[] = [];
    for (const file of files) {
      const isFile = typeof File !== 'undefined' && file.data instanceof File;
      const isBlob = typeof Blob !== 'undefined' && file.data instanceof Blob;
      attachments.push({
        file: {
          dataBase64: toBase64(await toBytes(file.data)),
          filename: file.filename ?? (isFile ? (file.data as File).name : 'file'),
          contentType:
            file.contentType ??
            (isBlob && (file.data as Blob).type ? (file.data as Blob).type : 'application/octet-stream'),
          ...(resumableChunkBytes !== undefined ? { resumableChunkBytes } : {}),
        },
      });
    }
    return attachments;
  }

  /**
   * Every upload of the client: a resumable one is keyed by its bytes' fingerprint so its tus URL, saved in
   * the client store, lets the next instance resume it.
   */
  async upload(data: UploadData, options: UploadOptions): Promise<MediaBody> {
    const { http } = this.deps;
    const interrupted = this.interrupted.signal;
    const userId = this.deps.userId();
    if (options.resumableChunkBytes === undefined || userId === undefined)
      return http.upload(data, options, { interrupted });
    // The name and type of a File or Blob, which its bytes alone no longer carry.
    const named = {
      ...(typeof File !== 'undefined' && data instanceof File && options.filename === undefined
        ? { filename: data.name }
        : {}),
      ...(typeof Blob !== 'undefined' &&
      data instanceof Blob &&
      data.type &&
      options.contentType === undefined
        ? { contentType: data.type }
        : {}),
      ...options,
    };
    const bytes = await toBytes(data);
    await this.deps.ready();
    const fingerprint = await uploadFingerprint(http.baseUrl, userId, bytes);
    return http.upload(bytes, named, { interrupted, resume: { uploads: this.resumable, fingerprint } });
  }

  /** Encrypts each file with a fresh key and uploads it as opaque bytes; the refs go in the message. */
  uploadEncrypted(files: readonly EncryptedFileInput[]) {
    return uploadEncryptedFiles(files, (ciphertext) =>
      this.upload(ciphertext, { contentType: 'application/octet-stream', filename: 'encrypted' }),
    );
  }

  /** Downloads and decrypts an encrypted attachment (throws `EncryptedFileError` with a `reason`). */
  downloadEncrypted(ref: EncryptedFileRef): Promise<Uint8Array> {
    return downloadEncryptedFile(ref, async (mediaId) => {
      // The global fetch: the injectable `fetch` option reads text only, and a signed URL needs no token.
      const response = await globalThis.fetch(await this.deps.http.mediaUrl(mediaId));
      if (!response.ok)
        throw new NatterError(
          ErrorCode.NOT_FOUND,
          `the attachment could not be downloaded (${response.status})`,
        );
      return new Uint8Array(await response.arrayBuffer());
    });
  }
}
