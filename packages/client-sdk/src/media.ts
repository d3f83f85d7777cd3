import {
  ErrorBodySchema,
  ErrorCode,
  type MediaBody,
  MediaBodySchema,
  NatterError,
  parseResponse,
} from '@natter/protocol';
import * as v from 'valibot';

export { fromBase64, toBase64 } from './base64.js';

/** What {@link uploadMedia} takes: a browser `File` or `Blob`, or bytes. */
export type UploadData = Blob | ArrayBuffer | Uint8Array;

/** Options of `client.upload`. */
export interface UploadOptions {
  /** File name stored with the upload (sanitised by the server). @default the `File`'s name */
  filename?: string;
  /** `Content-Type` sent; the server sniffs the type from the bytes anyway. */
  contentType?: string;
  /** Called as bytes go out: `sent` of `total` bytes. */
  onProgress?: (sent: number, total: number) => void;
  /** Aborts the upload; the promise rejects with `NATTER_UNAVAILABLE` (aborted). */
  signal?: AbortSignal;
  /**
   * Upload in pieces of this many bytes over tus (`/v1/media/uploads`, tus-js-client), retrying each
   * piece and resuming after a dropped connection: for large files on flaky networks. Off by default (one
   * `POST /v1/media`).
   */
  resumableChunkBytes?: number;
}

/** A file chosen for a message, as the outbox keeps it until it is uploaded (survives restarts). */
export interface OutboxFile {
  /** The bytes, base64: every client store (IndexedDB, LevelDB's JSON values, memory) keeps strings. */
  dataBase64: string;
  filename: string;
  contentType: string;
  /**
   * Upload over tus in pieces of this many bytes (resumed after a restart from the server's offset), as
   * `sendFiles(..., { resumableChunkBytes })` asked; absent: one `POST /v1/media`.
   */
  resumableChunkBytes?: number;
}

/**
 * Where the URLs of unfinished resumable uploads are kept between runs, by a key of the bytes
 * (`ChatClient` keeps them in its client store).
 */
export interface ResumableUploadRegistry {
  /** The saved URL of the upload of `fingerprint`, if any. */
  find(fingerprint: string): Promise<string | undefined>;
  /** Remembers the URL the server gave the upload of `fingerprint`. */
  save(fingerprint: string, url: string): Promise<void>;
  /** Forgets the upload of `fingerprint` (finished, refused, or cancelled). */
  forget(fingerprint: string): Promise<void>;
}

/** What `ChatClient` adds to an `HttpClient.upload` beyond the caller's options. */
export interface UploadContext {
  /** Where a tus upload's URL is kept between runs, and the key of these bytes there. */
  resume?: { uploads: ResumableUploadRegistry; fingerprint: string };
  /**
   * Aborted when the client closes: the upload stops without being cancelled on the server (its URL stays
   * saved, so the next client instance resumes it), unlike the caller's `signal`.
   */
  interrupted?: AbortSignal;
}

/** One attachment of an outbox item: an upload already made, or a file still to upload before sending. */
export type OutboxAttachment = { mediaId: string } | { file: OutboxFile };

interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
  status: number;
  responseText: string;
  upload: { onprogress: ((e: { loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

/** Bytes of an upload source, for hashing-free retries and progress. */
export async function toBytes(data: UploadData): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(await data.arrayBuffer());
}

function failure(status: number, text: string): NatterError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = v.safeParse(ErrorBodySchema, body);
  if (parsed.success)
    return new NatterError(parsed.output.error.code as ErrorCode, parsed.output.error.message);
  return new NatterError(
    status >= 500 ? ErrorCode.UNAVAILABLE : ErrorCode.BAD_REQUEST,
    `upload failed with ${status}`,
  );
}

/**
 * `POST /v1/media` with the bytes as the body. In a browser it goes through XMLHttpRequest, the one API
 * that reports upload progress over HTTP/1.1; elsewhere through fetch with a counting stream.
 */
export async function uploadMedia(
  baseUrl: string,
  token: string,
  data: UploadData,
  options: UploadOptions,
  context: UploadContext = {},
): Promise<MediaBody> {
  const name =
    options.filename ?? (typeof File !== 'undefined' && data instanceof File ? data.name : undefined);
  const type =
    options.contentType ??
    (typeof Blob !== 'undefined' && data instanceof Blob && data.type
      ? data.type
      : 'application/octet-stream');
  const url = `${baseUrl}/v1/media${name ? `?filename=${encodeURIComponent(name)}` : ''}`;
  if (options.signal?.aborted) throw new NatterError(ErrorCode.UNAVAILABLE, 'upload aborted');
  if (context.interrupted?.aborted) throw interruptedError();
  if (options.resumableChunkBytes !== undefined) {
    const bytes = await toBytes(data);
    return viaTus(baseUrl, token, name, type, bytes, options, options.resumableChunkBytes, context);
  }
  // A plain upload has nothing to resume: closing the client simply aborts it.
  const signals = [options.signal, context.interrupted].filter((s): s is AbortSignal => s !== undefined);
  const plain = { ...options, ...(signals.length > 0 ? { signal: anySignal(signals) } : {}) };
  const Xhr = (globalThis as { XMLHttpRequest?: new () => XhrLike }).XMLHttpRequest;
  const { status, text } = Xhr
    ? await viaXhr(Xhr, url, token, type, data, plain)
    : await viaFetch(url, token, type, await toBytes(data), plain);
  if (status !== 201) throw failure(status, text);
  return parseResponse(MediaBodySchema, JSON.parse(text), 'uploadMedia');
}

function viaXhr(
  Xhr: new () => XhrLike,
  url: string,
  token: string,
  type: string,
  data: UploadData,
  options: UploadOptions,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    xhr.open('POST', url);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', type);
    xhr.upload.onprogress = (e) => options.onProgress?.(e.loaded, e.total);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new NatterError(ErrorCode.UNAVAILABLE, 'network error during upload'));
    xhr.onabort = () => reject(new NatterError(ErrorCode.UNAVAILABLE, 'upload aborted'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(data);
  });
}

async function viaFetch(
  url: string,
  token: string,
  type: string,
  bytes: Uint8Array,
  options: UploadOptions,
): Promise<{ status: number; text: string }> {
  const total = bytes.byteLength;
  let sent = 0;
  const chunk = 256 * 1024;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const part = bytes.subarray(sent, Math.min(total, sent + chunk));
      sent += part.byteLength;
      controller.enqueue(part);
      options.onProgress?.(sent, total);
    },
  });
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body,
      duplex: 'half',
      ...(options.signal ? { signal: options.signal } : {}),
    } as RequestInit);
    return { status: response.status, text: await response.text() };
  } catch (err) {
    throw new NatterError(
      ErrorCode.UNAVAILABLE,
      `upload failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

const interruptedError = () =>
  new NatterError(ErrorCode.CLIENT_CLOSED, 'client closed during the upload; it resumes on the next start');

/** One signal aborted when any of `signals` is (`AbortSignal.any` where the runtime has it). */
function anySignal(signals: AbortSignal[]): AbortSignal {
  if (signals.length === 1) return signals[0]!;
  // Called on AbortSignal itself: some implementations (happy-dom's) need `this` in the static method.
  const Signal = AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal };
  if (typeof Signal.any === 'function') return Signal.any(signals);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) controller.abort();
    else signal.addEventListener('abort', () => controller.abort(), { once: true });
  }
  return controller.signal;
}

/**
 * A resumable upload over tus: pieces of `chunkBytes`, each retried with backoff; the last piece's answer is
 * the upload, checked like `POST /v1/media`'s. With `context.resume`, the upload's URL is saved as soon as
 * the server creates it and an earlier run's URL for the same bytes is tried first (tus-js-client asks the
 * server for its offset and sends only the rest; an expired or unknown URL makes it start a new upload).
 * The caller's `signal` cancels the upload on the server too; `context.interrupted` only stops sending.
 */
async function viaTus(
  baseUrl: string,
  token: string,
  name: string | undefined,
  type: string,
  bytes: Uint8Array,
  options: UploadOptions,
  chunkBytes: number,
  context: UploadContext,
): Promise<MediaBody> {
  const { Upload } = await import('tus-js-client');
  const { resume } = context;
  const previousUrl = await resume?.uploads.find(resume.fingerprint);
  const data =
    typeof Buffer !== 'undefined'
      ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : new Blob([bytes]);
  // Settles once: later callbacks of an upload stopped by an abort are ignored.
  let settled = false;
  return new Promise<MediaBody>((resolve, reject) => {
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    // Saving and forgetting the URL are best effort: a store that fails only costs the resume.
    const forget = () => resume?.uploads.forget(resume.fingerprint).catch(() => undefined);
    const upload = new Upload(data, {
      endpoint: `${baseUrl}/v1/media/uploads`,
      ...(previousUrl ? { uploadUrl: previousUrl } : {}),
      chunkSize: chunkBytes,
      retryDelays: [0, 1_000, 3_000, 5_000],
      headers: { Authorization: `Bearer ${token}` },
      metadata: { filename: name ?? 'file', filetype: type },
      onUploadUrlAvailable: () => {
        if (resume && upload.url)
          void resume.uploads.save(resume.fingerprint, upload.url).catch(() => undefined);
      },
      onProgress: (sent, total) => options.onProgress?.(sent, total),
      onSuccess: ({ lastResponse }) =>
        settle(() => {
          void forget();
          try {
            resolve(parseResponse(MediaBodySchema, JSON.parse(lastResponse.getBody()), 'uploadMedia'));
          } catch (err) {
            reject(err);
          }
        }),
      onError: (error) =>
        settle(() => {
          const response = (error as { originalResponse?: { getStatus(): number; getBody(): string } | null })
            .originalResponse;
          const status = response?.getStatus() ?? 0;
          // The server's verdict on the file (too large, type, quota): the staged upload is gone.
          if (status >= 400 && status < 500) void forget();
          reject(
            response
              ? failure(status, response.getBody())
              : new NatterError(ErrorCode.UNAVAILABLE, `upload failed: ${error.message}`),
          );
        }),
    });
    options.signal?.addEventListener(
      'abort',
      () =>
        settle(() => {
          void upload.abort(true).catch(() => undefined);
          void forget();
          reject(new NatterError(ErrorCode.UNAVAILABLE, 'upload aborted'));
        }),
      { once: true },
    );
    context.interrupted?.addEventListener(
      'abort',
      () =>
        settle(() => {
          void upload.abort(false).catch(() => undefined);
          reject(interruptedError());
        }),
      { once: true },
    );
    upload.start();
  });
}
