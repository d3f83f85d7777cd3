import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BlobError, BlobErrorCode, type BlobStat, isBlobError, isBlobKey } from '@natter/server-core';

/** True for S3's "no such object" answers (a 404 from HEAD has no error code, only the status). */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** Wraps a failure of the S3 server (or of reaching it) as `NATTER_BLOB_UNAVAILABLE`. */
export function unavailable(operation: string, error: unknown): BlobError {
  if (isBlobError(error)) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new BlobError(BlobErrorCode.UNAVAILABLE, `S3 ${operation} failed: ${detail}`, { cause: error });
}

/** Every blob under `prefix` (not the temp objects below it), page by page. */
export async function* listBlobs(client: S3Client, bucket: string, prefix: string): AsyncGenerator<BlobStat> {
  let token: string | undefined;
  do {
    const page = await client
      .send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      )
      .catch((error: unknown) => {
        throw unavailable('list', error);
      });
    for (const object of page.Contents ?? []) {
      const key = object.Key?.slice(prefix.length);
      if (!isBlobKey(key)) continue;
      yield { key, size: object.Size ?? 0, sha256: key, modifiedAt: object.LastModified?.getTime() ?? 0 };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * Deletes temp objects and aborts multipart uploads under `tempPrefix` started before `olderThan`
 * (ms since the epoch): what nodes that crashed mid-upload left. A bucket lifecycle rule
 * (AbortIncompleteMultipartUpload, expiry on the temp prefix) does the same server-side.
 */
export async function sweepTemp(
  client: S3Client,
  bucket: string,
  tempPrefix: string,
  olderThan: number,
): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: tempPrefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key && (object.LastModified?.getTime() ?? 0) < olderThan) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: tempPrefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const upload of page.Uploads ?? []) {
      if (upload.Key && upload.UploadId && (upload.Initiated?.getTime() ?? 0) < olderThan) {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
        );
      }
    }
    const more = page.IsTruncated === true;
    keyMarker = more ? page.NextKeyMarker : undefined;
    uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
}
