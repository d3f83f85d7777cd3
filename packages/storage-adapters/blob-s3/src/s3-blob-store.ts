import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  abortableSource,
  BLOB_CONTRACT_VERSION,
  BlobError,
  BlobErrorCode,
  type BlobInfo,
  type BlobRead,
  type BlobStat,
  type BlobStore,
  type BlobStoreManifest,
  type ByteRange,
  isBlobKey,
  type PresignOptions,
  type PutOptions,
  resolveByteRange,
} from '@natter/server-core';
import { isNotFound, listBlobs, sweepTemp, unavailable } from './s3-helpers.js';

/** Options of {@link createS3BlobStore}. */
export interface S3BlobStoreOptions {
  /** The bucket holding the blobs. */
  bucket: string;
  /**
   * Prefix of every object the store writes (blobs at `prefix + sha256`, uploads in progress under
   * `prefix + ".tmp/"`), so one bucket can hold several stores.
   * @default ''
   */
  prefix?: string;
  /** A ready S3 client; when given, `endpoint`, `region`, `credentials` and `forcePathStyle` are ignored. */
  client?: S3Client;
  /** Endpoint URL of an S3-compatible server, e.g. `http://127.0.0.1:7480`; AWS when omitted. */
  endpoint?: string;
  /**
   * Region to sign requests for.
   * @default 'us-east-1'
   */
  region?: string;
  /** Static credentials; the SDK's default chain (environment, profile, instance role) when omitted. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key`: needed by most local
   * S3 servers (radosgw, MinIO, s3rver) that have no wildcard DNS.
   * @default false
   */
  forcePathStyle?: boolean;
  /**
   * Bytes per multipart part (at least 5 MiB, S3's minimum: a part's length must be known before it
   * is sent, so each upload holds parts in memory). With `queueSize` it bounds the memory of one
   * upload at about `partSize * (queueSize + 1)`, whatever the blob's size.
   * @default 5242880 (5 MiB)
   */
  partSize?: number;
  /**
   * Parts uploaded at once per `put`. One keeps memory at about two parts per upload in flight (20
   * concurrent uploads: ~200 MiB); more speeds up single large uploads on high-latency links.
   * @default 1
   */
  queueSize?: number;
  /**
   * Create the bucket on `open()` when it does not exist (tests, local servers). Otherwise `open()`
   * only checks it is reachable.
   * @default false
   */
  createBucket?: boolean;
  /**
   * Uploads in progress older than this are swept on `open()` (left by a node that crashed mid-upload).
   * Several nodes share a bucket, so a sweep must not take a live upload: keep it above the longest upload.
   * @default 3600000 (1 hour)
   */
  staleTempMs?: number;
  /**
   * Socket idle timeout of one request, in ms: a server that stops answering fails the request
   * (`NATTER_BLOB_UNAVAILABLE`) instead of hanging it.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * Attempts per request, retries included (the SDK retries throttling and network errors).
   * @default 3
   */
  maxAttempts?: number;
}

const MANIFEST: BlobStoreManifest = {
  name: 's3',
  contractVersion: BLOB_CONTRACT_VERSION,
  capabilities: { presign: true, persistent: true, multiProcess: true },
};

/**
 * A blob store in an S3 bucket (AWS S3 or an S3-compatible server). `put` streams the source through a
 * multipart upload (`@aws-sdk/lib-storage`, aborted when the source fails) to a temp object while
 * hashing it, then copies it server-side to its content address and deletes the temp object: the key is
 * only known at the end, and an object appears at a content address only whole.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { bucket } = options;
  const prefix = options.prefix ?? '';
  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    new S3Client({
      endpoint: options.endpoint,
      region: options.region ?? 'us-east-1',
      credentials: options.credentials,
      forcePathStyle: options.forcePathStyle ?? false,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000 },
      // Checksums only where S3 requires them: S3-compatible servers differ in support for the newer
      // trailing checksums, and the content hash is checked end to end by the key anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const partSize = Math.max(options.partSize ?? 5 * 1024 * 1024, 5 * 1024 * 1024);
  const queueSize = options.queueSize ?? 1;
  const objectKey = (key: string) => `${prefix}${key}`;
  let state: 'new' | 'open' | 'closed' = 'new';

  const assertOpen = () => {
    if (state !== 'open') throw new BlobError(BlobErrorCode.CLOSED, 'the blob store is not open');
  };

  async function head(key: string): Promise<BlobStat | null> {
    if (!isBlobKey(key)) return null;
    try {
      const answer = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      return {
        key,
        size: answer.ContentLength ?? 0,
        sha256: key,
        modifiedAt: answer.LastModified?.getTime() ?? Date.now(),
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw unavailable('head', error);
    }
  }

  async function put(source: AsyncIterable<Uint8Array>, putOptions: PutOptions = {}): Promise<BlobInfo> {
    assertOpen();
    const { signal } = putOptions;
    if (signal?.aborted) throw new BlobError(BlobErrorCode.ABORTED, 'put aborted');
    const tempKey = `${prefix}.tmp/${randomUUID()}`;
    const hash = createHash('sha256');
    let size = 0;
    let sourceFailure: { error: unknown } | undefined;
    async function* hashed(): AsyncGenerator<Uint8Array> {
      const iterator = abortableSource(source, signal)[Symbol.asyncIterator]();
      try {
        while (true) {
          let next: IteratorResult<Uint8Array>;
          try {
            next = await iterator.next();
          } catch (error) {
            // Only a failure of the source itself is the caller's error; one thrown in at `yield` (the
            // upload tearing down its reader) is the upload's.
            sourceFailure = { error };
            throw error;
          }
          if (next.done) return;
          hash.update(next.value);
          size += next.value.byteLength;
          yield next.value;
        }
      } finally {
        await iterator.return?.(undefined);
      }
    }
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: tempKey, Body: Readable.from(hashed(), { objectMode: false }) },
      partSize,
      queueSize,
      // Parts of a failed upload are aborted, so nothing of it lingers (or is billed).
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      if (sourceFailure) throw sourceFailure.error;
      throw unavailable('upload', error);
    }
    const key = hash.digest('hex');
    try {
      // A server-side copy onto the content address: the object appears there whole or not at all. When
      // the blob already exists this rewrites identical bytes and refreshes its modification time, which
      // restarts the orphan sweep's grace period for this upload.
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: objectKey(key),
          CopySource: `${bucket}/${tempKey.split('/').map(encodeURIComponent).join('/')}`,
        }),
      );
    } catch (error) {
      await deleteQuietly(tempKey);
      throw unavailable('copy', error);
    }
    // A temp object left here (the delete failing) is invisible to readers and swept on a later open().
    await deleteQuietly(tempKey);
    return { key, size, sha256: key };
  }

  async function deleteQuietly(objectName: string): Promise<void> {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectName })).catch(() => undefined);
  }

  async function get(key: string, range?: ByteRange): Promise<BlobRead | null> {
    assertOpen();
    if (!isBlobKey(key)) return null;
    let bounds: { start: number; end: number } | undefined;
    let size: number | undefined;
    if (range !== undefined) {
      // The size first, so every adapter resolves ranges the same way (resolveByteRange).
      const stat = await head(key);
      if (!stat) return null;
      size = stat.size;
      bounds = resolveByteRange(range, size);
    }
    try {
      const answer = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: objectKey(key),
          Range: bounds ? `bytes=${bounds.start}-${bounds.end}` : undefined,
        }),
      );
      const total = size ?? answer.ContentLength ?? 0;
      const { start, end } = bounds ?? { start: 0, end: total - 1 };
      const body = answer.Body?.transformToWebStream() ?? new Blob([]).stream();
      return { body: body as ReadableStream<Uint8Array>, size: total, start, end };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw unavailable('get', error);
    }
  }

  return {
    manifest: MANIFEST,

    async open() {
      if (state === 'open') return;
      try {
        if (options.createBucket) {
          await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
            const name = (error as { name?: string }).name;
            if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
          });
        } else {
          await client.send(new HeadBucketCommand({ Bucket: bucket }));
        }
        await sweepTemp(client, bucket, `${prefix}.tmp/`, Date.now() - (options.staleTempMs ?? 3_600_000));
      } catch (error) {
        throw unavailable('open', error);
      }
      state = 'open';
    },

    async close() {
      state = 'closed';
      if (ownsClient) client.destroy();
    },

    put,
    get,

    async head(key: string) {
      assertOpen();
      return head(key);
    },

    async delete(key: string) {
      assertOpen();
      if (!isBlobKey(key)) return;
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      } catch (error) {
        if (isNotFound(error)) return;
        throw unavailable('delete', error);
      }
    },

    list(): AsyncIterable<BlobStat> {
      assertOpen();
      return listBlobs(client, bucket, prefix);
    },

    async presignGet(key: string, presign: PresignOptions): Promise<string> {
      assertOpen();
      return getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket: bucket,
          Key: objectKey(key),
          ResponseContentType: presign.contentType,
          ResponseContentDisposition: presign.contentDisposition,
        }),
        { expiresIn: presign.ttlSeconds },
      );
    },
  };
}
