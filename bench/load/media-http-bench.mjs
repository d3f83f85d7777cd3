import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Media over HTTP (issue 16): `POST /v1/media` against a natter node in a child process (memory chat store,
 * SQLite media store), for the filesystem and the S3 blob store side by side:
 *  1. upload throughput (MiB/s) of sequential 25 MiB uploads, end to end (HTTP, sniffing, hashing, storing);
 *  2. time per 12-megapixel JPEG upload (4000 x 3000, EXIF orientation 6), p50/p99: sniffing, decode,
 *     rotation, re-encode to 2048 px, WebP thumbnails 320 and 800, ThumbHash, storing all three blobs;
 *  3. the node's RSS (from /proc) while 20 clients upload 25 MiB each at once.
 *
 *   node bench/load/media-http-bench.mjs [--quick]      (or `npm run bench -- --only=media`)
 */
const MIB = 1024 * 1024;
const CONCURRENT = 20;
const BYTES = 25 * MIB;
const S3_URL = process.env.NATTER_S3_URL ?? 'http://127.0.0.1:7480';

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

/** A streamed body of `total` random-looking bytes, never held whole. */
function body(total) {
  const block = randomBytes(256 * 1024);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = Buffer.from(block.subarray(0, Math.min(block.byteLength, total - sent)));
      chunk.writeUInt32BE(sent / block.byteLength, 0);
      chunk.writeDoubleBE(Math.random(), 4);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** A noisy 12 MP JPEG shot "sideways" (orientation 6), made once per run. */
async function twelveMegapixelJpeg() {
  const { default: sharp } = await import('sharp');
  return sharp({
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
}

const rssOf = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

async function run(kind, s3, { runs, jpegRuns, jpeg }) {
  const child = fork(new URL('./media-http-server.mjs', import.meta.url), [kind, JSON.stringify(s3 ?? {})], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.env.NATTER_BENCH_GC === '1' ? ['--expose-gc'] : [],
  });
  const { url, dir } = await new Promise((resolve) => child.once('message', resolve));
  try {
    const signup = await fetch(`${url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password: 'correct horse battery', displayName: 'bench' }),
    });
    const { accessToken } = await signup.json();
    const upload = async () => {
      const res = await fetch(`${url}/v1/media?filename=data.bin`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/octet-stream' },
        body: body(BYTES),
        duplex: 'half',
      });
      if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    };
    await upload(); // warm-up
    let seconds = 0;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await upload();
      seconds += (performance.now() - started) / 1000;
    }
    // Each JPEG gets a few random bytes after its end (decoders ignore them): the same bytes again would
    // answer the earlier upload without processing it (uploads are idempotent by content).
    const times = [];
    for (let i = 0; i < jpegRuns; i++) {
      const started = performance.now();
      const res = await fetch(`${url}/v1/media?filename=photo.jpg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'image/jpeg' },
        body: Buffer.concat([jpeg, randomBytes(16)]),
      });
      const answer = await res.json();
      if (res.status !== 201 || answer.thumbnails.length !== 2)
        throw new Error(`JPEG upload answered ${res.status}: ${JSON.stringify(answer)}`);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const baseline = rssOf(child.pid);
    let peak = baseline;
    const timer = setInterval(() => {
      peak = Math.max(peak, rssOf(child.pid));
    }, 20);
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENT }, upload));
    clearInterval(timer);
    child.send('peak');
    const { peak: memory } = await new Promise((resolve) => child.once('message', resolve));
    if (process.env.NATTER_BENCH_DEBUG) console.error(kind, memory);
    return {
      store: kind === 's3' ? 'S3 (radosgw on 127.0.0.1)' : 'filesystem (fsync on)',
      throughput: (runs * BYTES) / MIB / seconds,
      jpegMiB: jpeg.byteLength / MIB,
      jpegP50: percentile(times, 50),
      jpegP99: percentile(times, 99),
      concurrentSeconds: (performance.now() - started) / 1000,
      baseline: baseline / MIB,
      peak: peak / MIB,
    };
  } finally {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the media HTTP bench for the filesystem store and, when the S3 server answers, for S3; answers one
 * row per store (S3's row says why when it was not measured).
 */
export async function mediaHttpBench({ quick = false, progress = () => undefined } = {}) {
  const settings = { runs: quick ? 3 : 8, jpegRuns: quick ? 4 : 12, jpeg: await twelveMegapixelJpeg() };
  progress('filesystem');
  const rows = [await run('fs', undefined, settings)];
  if (!(await reachable(S3_URL))) {
    rows.push({ store: 'S3 (radosgw on 127.0.0.1)', error: `no S3 server at ${S3_URL}` });
    return rows;
  }
  progress('S3');
  rows.push(
    await run(
      's3',
      {
        bucket: process.env.NATTER_S3_BUCKET ?? 'natter-test',
        prefix: `bench-http-${Date.now().toString(36)}/`,
        endpoint: S3_URL,
        region: 'us-east-1',
        credentials: {
          accessKeyId: process.env.NATTER_S3_ACCESS_KEY ?? 'natter',
          secretAccessKey: process.env.NATTER_S3_SECRET_KEY ?? 'natter-secret',
        },
        forcePathStyle: true,
        createBucket: true,
      },
      settings,
    ),
  );
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const rows = await mediaHttpBench({ quick });
  const f = (n, d = 1) => (typeof n === 'number' ? n.toFixed(d) : '–');
  console.log(
    `\n### Media over HTTP (${quick ? 'quick' : 'full'} run, ${new Date().toISOString().slice(0, 10)})\n`,
  );
  console.log(
    '| store | POST /v1/media 25 MiB (MiB/s) | 12 MP JPEG p50 (ms) | p99 (ms) | 20 x 25 MiB at once (s) | node RSS before (MiB) | node RSS peak (MiB) | growth (MiB) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    if (r.error) console.log(`| ${r.store} | ${r.error} | | | | | | |`);
    else
      console.log(
        `| ${r.store} | ${f(r.throughput)} | ${f(r.jpegP50, 0)} | ${f(r.jpegP99, 0)} | ${f(r.concurrentSeconds)} | ${f(r.baseline, 0)} | ${f(r.peak, 0)} | ${f(r.peak - r.baseline, 0)} |`,
      );
  }
}
