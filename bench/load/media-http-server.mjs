import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import { createS3BlobStore } from '@natter/blob-s3';
import { createMedia, createSqliteMediaStore } from '@natter/media';
import { createNatterServer, silentLogger } from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';

/**
 * The natter node of the media HTTP bench, in its own process so its RSS is the server's alone:
 * `node media-http-server.mjs fs|s3 <s3 options JSON>`; prints `{ url }` once listening.
 */
const [kind, s3Json] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'natter-media-http-bench-'));
const blobs =
  kind === 's3' ? createS3BlobStore(JSON.parse(s3Json)) : createFsBlobStore({ root: join(dir, 'blobs') });
const server = createNatterServer({
  storage: createMemoryStorage(),
  tokens: { secret: 'media-bench-secret-media-bench-secret-01' },
  logger: silentLogger(),
  media: createMedia({
    blobs,
    store: createSqliteMediaStore({ path: join(dir, 'media.sqlite') }),
    pipeline: { tempDir: join(dir, 'tmp') },
    quotaBytes: 64 * 1024 ** 3,
    presignTtlSeconds: false,
  }),
});
const { url } = await server.listen(0, '127.0.0.1');
// With NATTER_BENCH_GC=1 the node collects garbage every 50 ms: what RSS keeps then is held, not garbage.
if (process.env.NATTER_BENCH_GC === '1' && globalThis.gc) setInterval(() => globalThis.gc(), 50).unref();
process.send?.({ url, dir });
const peak = { heapUsed: 0, external: 0, arrayBuffers: 0 };
setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
}, 20).unref();
process.on('message', async (m) => {
  if (m === 'peak') process.send?.({ peak });
  if (m === 'stop') {
    await server.close();
    process.exit(0);
  }
});
