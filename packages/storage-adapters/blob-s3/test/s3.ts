import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { createS3BlobStore, type S3BlobStoreOptions } from '../src/index.js';

/** The S3 server of the tests: `NATTER_S3_URL`, by default the radosgw that `.ci/services.sh` starts. */
export const S3_URL = process.env.NATTER_S3_URL ?? 'http://127.0.0.1:7480';
/** The bucket the tests use (created when missing); each test works under its own prefix. */
export const S3_BUCKET = process.env.NATTER_S3_BUCKET ?? 'natter-test';
/** Credentials of the S3 user. */
export const S3_CREDENTIALS = {
  accessKeyId: process.env.NATTER_S3_ACCESS_KEY ?? 'natter',
  secretAccessKey: process.env.NATTER_S3_SECRET_KEY ?? 'natter-secret',
};
/** Region to sign for. */
export const S3_REGION = process.env.NATTER_S3_REGION ?? 'us-east-1';

/** Whether something accepts TCP connections at the server's host and port (1 s budget). */
function reachable(): Promise<boolean> {
  const url = new URL(S3_URL);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether the S3 suites run. Outside CI an unreachable server skips them with a loud warning; with
 * `CI=true` they always run (and fail when the server is down), never skip.
 */
export async function s3SuitesRun(): Promise<boolean> {
  if (process.env.CI === 'true' || (await reachable())) return true;
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `!! No S3 server at ${S3_URL}: the @natter/blob-s3 tests are SKIPPED.`,
      '!! Run `bash .ci/services.sh` (starts Ceph radosgw) or set NATTER_S3_URL (and NATTER_S3_BUCKET,',
      '!! NATTER_S3_ACCESS_KEY, NATTER_S3_SECRET_KEY). With CI=true they run and fail instead of skipping.',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
  return false;
}

/** A client for the tests' own requests (creating the bucket, inspecting and removing objects). */
export function adminClient(endpoint = S3_URL): S3Client {
  return new S3Client({
    endpoint,
    region: S3_REGION,
    credentials: S3_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A fresh prefix, so each test sees an empty store in the shared bucket. */
export function uniquePrefix(): string {
  return `t-${randomBytes(6).toString('hex')}/`;
}

/** A store on the test server under `prefix`. */
export function testStore(prefix: string, overrides: Partial<S3BlobStoreOptions> = {}) {
  return createS3BlobStore({
    bucket: S3_BUCKET,
    prefix,
    endpoint: S3_URL,
    region: S3_REGION,
    credentials: S3_CREDENTIALS,
    forcePathStyle: true,
    createBucket: true,
    ...overrides,
  });
}

/** Creates the test bucket when missing. */
export async function ensureBucket(client: S3Client): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: S3_BUCKET })).catch((error: unknown) => {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  });
}

/** Every object name under `prefix` (temp objects included). */
export async function objectsUnder(client: S3Client, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: S3_BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => object.Key!);
}

/** Multipart uploads still open under `prefix`. */
export async function uploadsUnder(
  client: S3Client,
  prefix: string,
): Promise<Array<{ Key: string; UploadId: string }>> {
  const page = await client.send(new ListMultipartUploadsCommand({ Bucket: S3_BUCKET, Prefix: prefix }));
  return (page.Uploads ?? []).map((upload) => ({ Key: upload.Key!, UploadId: upload.UploadId! }));
}

/** Removes every object and open upload under `prefix`. */
export async function removePrefix(client: S3Client, prefix: string): Promise<void> {
  for (const key of await objectsUnder(client, prefix)) {
    await client.send(new DeleteObjectCommand({ Bucket: S3_BUCKET, Key: key }));
  }
  for (const upload of await uploadsUnder(client, prefix)) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: S3_BUCKET, ...upload }));
  }
}
