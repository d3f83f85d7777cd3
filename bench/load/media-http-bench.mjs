import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';

/**
 * Media over HTTP (issue 16): `POST /v1/media` against a natter node in a child process (memory chat store,
 * SQLite media store), for the filesystem and the S3 blob store:
 *  1. upload throughput (MiB/s) of sequential 25 MiB uploads, end to end (HTTP, sniffing, hashing, storing);
 *  2. the node's RSS (from /proc) while 20 clients upload 25 MiB each at once.
 *
 *   node bench/load/media-http-bench.mjs [--quick]
 */
const MIB = 1024 * 1024;
const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 8;
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

const rssOf = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

async function run(kind, s3) {
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
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await upload();
      seconds += (performance.now() - started) / 1000;
    }
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
      throughput: (RUNS * BYTES) / MIB / seconds,
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

const rows = [await run('fs')];
if (await reachable(S3_URL)) {
  rows.push(
    await run('s3', {
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
    }),
  );
}
const f = (n, d = 1) => n.toFixed(d);
console.log(
  `\n### Media over HTTP (${quick ? 'quick' : 'full'} run, ${new Date().toISOString().slice(0, 10)})\n`,
);
console.log(
  '| store | POST /v1/media 25 MiB (MiB/s) | 20 x 25 MiB at once (s) | node RSS before (MiB) | node RSS peak (MiB) | growth (MiB) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.store} | ${f(r.throughput)} | ${f(r.concurrentSeconds)} | ${f(r.baseline, 0)} | ${f(r.peak, 0)} | ${f(r.peak - r.baseline, 0)} |`,
  );
}
