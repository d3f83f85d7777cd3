import { ErrorCode } from '@natter/protocol';

/**
 * The blob store port: where media bytes live (uploaded files, re-encoded images, thumbnails).
 * `@natter/blob-conformance` checks every guarantee written here; `@natter/blob-fs` and
 * `@natter/blob-s3` implement it.
 *
 * Blobs are **content-addressed**: the store computes the key from the bytes while they stream in
 * (lower-case hex SHA-256), so the same content always has the same key. That makes `put` idempotent,
 * lets concurrent uploads of one file share one blob, and lets the media service count references by
 * key and `delete` a blob once nothing references it. The caller never chooses a key, so no caller can
 * overwrite another's blob with different bytes.
 *
 * Streams: `put` takes an `AsyncIterable<Uint8Array>` because every source the server has is one in
 * Node (a fetch `Request.body`, a Node `Readable`, a file stream, a generator), and a source failure
 * surfaces as a throw inside the adapter's `for await`, which is exactly where it must abort. `get`
 * answers a web `ReadableStream<Uint8Array>` because the HTTP layer is fetch-style: it goes straight
 * into `new Response(body)`, and cancelling it (a client that hangs up) releases the file or socket.
 */
/** Version of the blob store contract an adapter implements. */
export const BLOB_CONTRACT_VERSION = 1;

/**
 * Stable codes of the errors blob store adapters reject with: the `NATTER_BLOB_*` codes of the protocol's
 * one error list, by short name. Check `code`, not `instanceof`.
 */
export const BlobErrorCode = Object.freeze({
  UNAVAILABLE: ErrorCode.BLOB_UNAVAILABLE,
  RANGE_NOT_SATISFIABLE: ErrorCode.BLOB_RANGE_NOT_SATISFIABLE,
  ABORTED: ErrorCode.BLOB_ABORTED,
  CLOSED: ErrorCode.BLOB_CLOSED,
});

/** One of {@link BlobErrorCode}. */
export type BlobErrorCode = (typeof BlobErrorCode)[keyof typeof BlobErrorCode];

/** An error of a blob store adapter, with a stable {@link BlobErrorCode}. */
export class BlobError extends Error {
  override readonly name = 'BlobError';

  constructor(
    readonly code: BlobErrorCode,
    message: string,
    options?: {
      cause?: unknown;
      /** For `RANGE_NOT_SATISFIABLE`: the blob's size, for a `Content-Range: bytes *\/size` answer. */
      size?: number;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.size = options?.size;
  }

  /** The blob's size, set for `RANGE_NOT_SATISFIABLE`. */
  readonly size: number | undefined;
}

/** True when `error` carries a blob error code, or the given one (works across module copies). */
export function isBlobError(error: unknown, code?: BlobErrorCode): error is BlobError {
  if (typeof error !== 'object' || error === null) return false;
  const found = (error as { code?: unknown }).code;
  return (
    typeof found === 'string' && found.startsWith('NATTER_BLOB_') && (code === undefined || found === code)
  );
}

/** A key is exactly 64 lower-case hex digits: the SHA-256 of the blob's bytes. */
export const BLOB_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** True when `value` has the shape of a blob key. A string that is not a key is never found by a store. */
export function isBlobKey(value: unknown): value is string {
  return typeof value === 'string' && BLOB_KEY_PATTERN.test(value);
}

/** What an adapter declares about itself; the core reads `capabilities` before using optional features. */
export interface BlobStoreManifest {
  /** Adapter name, e.g. `fs` or `s3`. */
  name: string;
  /** Contract version implemented; must equal {@link BLOB_CONTRACT_VERSION}. */
  contractVersion: number;
  /** Optional features and properties of the backend. */
  capabilities: {
    /** `presignGet` is implemented: a client can fetch a blob from the backend directly. */
    presign: boolean;
    /** Blobs survive `close()` and reopening. */
    persistent: boolean;
    /** Several processes (chat nodes) may use the same store at once. */
    multiProcess: boolean;
  };
}

/** Options of {@link BlobStore.put}. */
export interface PutOptions {
  /** Aborts the upload: `put` rejects with `NATTER_BLOB_ABORTED` and nothing is stored. */
  signal?: AbortSignal;
}

/** A stored blob, as `put` and `head` describe it. */
export interface BlobInfo {
  /** The content address: lower-case hex SHA-256 of the bytes (equal to `sha256`). */
  key: string;
  /** Length in bytes. */
  size: number;
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
}

/** What `head` and `list` add: when the blob was last written (ms since the epoch). */
export interface BlobStat extends BlobInfo {
  /**
   * When the blob was last stored (a `put` of content already there may refresh it). The media
   * service's orphan sweep compares it with a grace period so it never deletes a blob that an upload
   * in flight has just stored but not yet recorded a reference to.
   */
  modifiedAt: number;
}

/**
 * A byte range, as HTTP `Range: bytes=` expresses it: `{ start, end? }` (both inclusive, `end`
 * clamped to the last byte) or `{ suffix }` for the last `suffix` bytes.
 */
export type ByteRange = { start: number; end?: number } | { suffix: number };

/** A blob being read. */
export interface BlobRead {
  /** The bytes of the requested range (the whole blob without a range). Cancel it to stop early. */
  body: ReadableStream<Uint8Array>;
  /** The whole blob's size, for `Content-Range: bytes start-end/size`. */
  size: number;
  /** First byte of `body` in the blob (0 without a range). */
  start: number;
  /** Last byte of `body` in the blob, inclusive (`size - 1` without a range; `-1` for an empty blob). */
  end: number;
}

/**
 * Resolves `range` against a blob of `size` bytes into inclusive `{ start, end }`, as every adapter
 * must: `end` is clamped to the last byte, a suffix longer than the blob reads all of it, and a start
 * at or past the end (or any range of an empty blob) throws `NATTER_BLOB_RANGE_NOT_SATISFIABLE`.
 */
export function resolveByteRange(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size - 1 };
  const invalid = () =>
    new BlobError(BlobErrorCode.RANGE_NOT_SATISFIABLE, `range not satisfiable for ${size} bytes`, { size });
  if ('suffix' in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix <= 0 || size === 0) throw invalid();
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  const { start } = range;
  const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
  if (!Number.isSafeInteger(start) || start < 0 || start >= size || end < start) throw invalid();
  return { start, end };
}

/** Options of {@link BlobStore.presignGet}. */
export interface PresignOptions {
  /** How long the URL works, in seconds. */
  ttlSeconds: number;
  /** `Content-Type` the backend answers with (the media record's sniffed type). */
  contentType?: string;
  /** `Content-Disposition` the backend answers with (e.g. `attachment; filename="a.pdf"`). */
  contentDisposition?: string;
}

/**
 * Stores immutable, content-addressed blobs. Guarantees (checked by `@natter/blob-conformance`):
 * - nothing half-written is ever visible: `head`, `get` and `list` see a blob only once `put` resolved;
 * - a `put` whose source throws (or whose `signal` aborts) rejects with the source's own error (or
 *   `NATTER_BLOB_ABORTED`) and leaves no blob behind;
 * - concurrent `put`s of the same bytes all resolve to the same key, and one blob remains;
 * - `put` and `get` stream: memory does not grow with the blob's size;
 * - `delete` is idempotent; a missing blob is `null` for `head` and `get`, never an error.
 */
export interface BlobStore {
  /** What the adapter is and can do. */
  readonly manifest: BlobStoreManifest;
  /** Prepares the store (creates directories, sweeps temp files of crashed writes, checks the bucket). */
  open(): Promise<void>;
  /** Releases resources; reads still streaming may be cut. */
  close(): Promise<void>;
  /** Streams `source` into the store and answers its key, size and hash once it is durably stored. */
  put(source: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<BlobInfo>;
  /**
   * Reads a blob, or a range of it. `null` when there is no such blob. Rejects with
   * `NATTER_BLOB_RANGE_NOT_SATISFIABLE` when the range starts at or past the end (a suffix range of an
   * empty blob included); a suffix longer than the blob reads the whole blob.
   */
  get(key: string, range?: ByteRange): Promise<BlobRead | null>;
  /** Describes a blob without reading it, or `null` when there is none. */
  head(key: string): Promise<BlobStat | null>;
  /** Deletes a blob; resolves also when there was none. */
  delete(key: string): Promise<void>;
  /** Every stored blob, in no particular order (for sweeping unreferenced blobs). */
  list(): AsyncIterable<BlobStat>;
  /**
   * A URL that lets anyone holding it `GET` the blob directly from the backend for `ttlSeconds`.
   * Present only when `manifest.capabilities.presign` is true. Does not check the blob exists.
   */
  presignGet?(key: string, options: PresignOptions): Promise<string>;
}

/**
 * For adapters: iterates `source`, stopping with `NATTER_BLOB_ABORTED` as soon as `signal` aborts, also while the
 * source is stalled; the source is then cancelled through `return()`.
 */
export async function* abortableSource(
  source: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  if (!signal) {
    yield* source;
    return;
  }
  const iterator = source[Symbol.asyncIterator]();
  try {
    while (true) {
      if (signal.aborted) throw new BlobError(BlobErrorCode.ABORTED, 'put aborted');
      // A fresh abort promise per chunk, dropped after it: racing every chunk against one long-lived
      // promise left a reaction on it per chunk, each holding that chunk (20 uploads of 25 MiB at once
      // kept all 500 MiB alive).
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new BlobError(BlobErrorCode.ABORTED, 'put aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      let next: IteratorResult<Uint8Array>;
      try {
        next = await Promise.race([iterator.next(), aborted]);
      } finally {
        signal.removeEventListener('abort', onAbort!);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Cancel the source unless it finished; never wait on a stalled one.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
