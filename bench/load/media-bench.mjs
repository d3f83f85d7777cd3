import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import { createS3BlobStore } from '@natter/blob-s3';
import { createMediaPipeline } from '@natter/media';
import sharp from 'sharp';

/**
 * Media bench (issue 16), plain Node against the built packages (`npm run build` first):
 *  1. ingest throughput (MiB/s) of a 25 MiB non-image upload, sequentially;
 *  2. time per 12-megapixel JPEG through the pipeline (orientation, re-encode to 2048 px, two WebP
 *     thumbnails, ThumbHash, storing), p50/p99;
 *  3. the process's RSS while 20 uploads of 25 MiB each stream through the pipeline at once
 *     (500 MiB in flight: it must stay far below that, since nothing is buffered whole).
 * Each for the filesystem store and, when an S3 server answers at NATTER_S3_URL (default: the radosgw
 * of .ci/services.sh), for the S3 store. Prints a markdown table.
 *
 *   node --expose-gc bench/load/media-bench.mjs [--quick]
 */
const MIB = 1024 * 1024;
const quick = process.argv.includes('--quick');
const THROUGHPUT_RUNS = quick ? 2 : 5;
const JPEG_RUNS = quick ? 5 : 20;
const CONCURRENT = 20;
const UPLOAD_BYTES = 25 * MIB;

const S3_URL = process.env.NATTER_S3_URL ?? 'http://127.0.0.1:7480';
const s3Options = (prefix) => ({
  bucket: process.env.NATTER_S3_BUCKET ?? 'natter-test',
  prefix,
  endpoint: S3_URL,
  region: process.env.NATTER_S3_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.NATTER_S3_ACCESS_KEY ?? 'natter',
    secretAccessKey: process.env.NATTER_S3_SECRET_KEY ?? 'natter-secret',
  },
  forcePathStyle: true,
  createBucket: true,
});

function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) || 80 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** `total` bytes in 64 KiB chunks: fresh chunks of one random block, each stamped with its index. */
async function* upload(total) {
  const block = randomBytes(64 * 1024);
  for (let offset = 0, index = 0; offset < total; offset += block.byteLength, index++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.byteLength, total - offset)));
    chunk.writeUInt32BE(index, 0);
    chunk.writeUInt32BE(Math.floor(Math.random() * 2 ** 32), 4);
    yield chunk;
  }
}

async function* once(buffer) {
  yield buffer;
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function benchStore(name, blobs) {
  await blobs.open();
  const tempDir = mkdtempSync(join(tmpdir(), 'natter-media-bench-'));
  const pipeline = createMediaPipeline({ blobs, tempDir });
  const row = { store: name };

  // 1. Throughput of opaque uploads, one after the other.
  let seconds = 0;
  for (let i = 0; i < THROUGHPUT_RUNS; i++) {
    const started = performance.now();
    await pipeline.ingest(upload(UPLOAD_BYTES), { filename: 'data.bin' });
    seconds += (performance.now() - started) / 1000;
  }
  row.throughput = (THROUGHPUT_RUNS * UPLOAD_BYTES) / MIB / seconds;

  // 2. 12 MP JPEGs through the image path.
  const jpeg = await sharp({
    create: {
      width: 4000,
      height: 3000,
      channels: 3,
      background: '#4080c0',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const times = [];
  for (let i = 0; i < JPEG_RUNS; i++) {
    const started = performance.now();
    await pipeline.ingest(once(jpeg), { filename: 'photo.jpg' });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  row.jpegMiB = jpeg.byteLength / MIB;
  row.p50 = percentile(times, 50);
  row.p99 = percentile(times, 99);

  // 3. RSS during 20 concurrent 25 MiB uploads.
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENT }, () => pipeline.ingest(upload(UPLOAD_BYTES))));
  clearInterval(timer);
  row.concurrentSeconds = (performance.now() - started) / 1000;
  row.baselineMiB = baseline / MIB;
  row.peakMiB = peak / MIB;
  row.growthMiB = (peak - baseline) / MIB;

  await blobs.close();
  rmSync(tempDir, { recursive: true, force: true });
  return row;
}

const rows = [];
const fsRoot = mkdtempSync(join(tmpdir(), 'natter-media-bench-blobs-'));
try {
  rows.push(await benchStore('filesystem (fsync on)', createFsBlobStore({ root: fsRoot })));
} finally {
  rmSync(fsRoot, { recursive: true, force: true });
}
let s3Note = '';
if (await reachable(S3_URL)) {
  const prefix = `bench-${Date.now().toString(36)}/`;
  rows.push(await benchStore('S3 (radosgw on 127.0.0.1)', createS3BlobStore(s3Options(prefix))));
  // Leave nothing behind in the bucket.
  const cleanup = createS3BlobStore(s3Options(prefix));
  await cleanup.open();
  for await (const stat of cleanup.list()) await cleanup.delete(stat.key);
  await cleanup.close();
} else {
  s3Note = `\nS3 skipped: nothing answers at ${S3_URL} (run \`bash .ci/services.sh\` or set NATTER_S3_URL).\n`;
}

const f = (n, digits = 1) => n.toFixed(digits);
console.log(
  `\n### Media pipeline (${quick ? 'quick' : 'full'} run, ${new Date().toISOString().slice(0, 10)})\n`,
);
console.log(
  '| store | ingest 25 MiB file (MiB/s) | 12 MP JPEG (MiB) | JPEG ingest p50 (ms) | p99 (ms) | 20 x 25 MiB at once (s) | RSS before (MiB) | RSS peak (MiB) | RSS growth (MiB) | per upload in flight (MiB) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.store} | ${f(r.throughput)} | ${f(r.jpegMiB, 2)} | ${f(r.p50, 0)} | ${f(r.p99, 0)} | ${f(r.concurrentSeconds)} | ${f(r.baselineMiB, 0)} | ${f(r.peakMiB, 0)} | ${f(r.growthMiB, 0)} | ${f(r.growthMiB / CONCURRENT)} |`,
  );
}
console.log(
  `\n${JPEG_RUNS} JPEGs per store, ${THROUGHPUT_RUNS} sequential 25 MiB uploads; the concurrent run moves ${(CONCURRENT * UPLOAD_BYTES) / MIB} MiB in total.${s3Note}`,
);
// Buffering whole uploads would grow RSS by at least the bytes in flight; streaming stays well below.
// (S3 holds about three 5 MiB parts per upload in flight: lib-storage must know a part's length.)
const unbounded = rows.filter((r) => r.growthMiB > (0.75 * CONCURRENT * UPLOAD_BYTES) / MIB);
if (unbounded.length > 0) {
  console.error(`RSS grew by most of the bytes in flight for: ${unbounded.map((r) => r.store).join(', ')}`);
  process.exitCode = 1;
}
