import { mediaHttpBench } from '../load/media-http-bench.mjs';

/**
 * Scenario "media" (issue #16): `POST /v1/media` end to end against a natter node in its own process, the
 * filesystem and the S3 blob store side by side: 25 MiB upload throughput, 12 MP JPEG upload time
 * (p50/p99, image processing included) and the node's RSS during 20 concurrent 25 MiB uploads.
 */
export async function media({ quick, progress }) {
  const rows = await mediaHttpBench({ quick, progress });
  return {
    title: 'Media (issue #16): uploads over HTTP, filesystem vs S3',
    params: { uploadMiB: 25, concurrent: 20, throughputRuns: quick ? 3 : 8, jpegRuns: quick ? 4 : 12 },
    stores: Object.fromEntries(rows.map(({ store, ...figures }) => [store, figures])),
  };
}
