/**
 * natter's S3 blob store: multipart uploads, ranged reads and presigned GETs on AWS S3 or any
 * S3-compatible server.
 * @packageDocumentation
 */
export { createS3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.js';
