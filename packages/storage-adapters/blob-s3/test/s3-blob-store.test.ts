import { connect, createServer, type Server, type Socket } from 'node:net';
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { blobTestBytes } from '@natter/blob-conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  ensureBucket,
  objectsUnder,
  removePrefix,
  S3_BUCKET,
  S3_URL,
  s3SuitesRun,
  testStore,
  uniquePrefix,
  uploadsUnder,
} from './s3.js';

const MIB = 1024 * 1024;
const run = await s3SuitesRun();
const admin = adminClient();
const prefixes: string[] = [];
function prefix(): string {
  const p = uniquePrefix();
  prefixes.push(p);
  return p;
}

beforeAll(async () => {
  if (run) await ensureBucket(admin);
});
afterAll(async () => {
  if (run) for (const p of prefixes) await removePrefix(admin, p);
  admin.destroy();
});

/**
 * A TCP proxy in front of the S3 server. `goAway()` makes the server vanish for the client: it stops
 * listening and resets every open connection, as a crashed or unplugged server would.
 */
async function startProxy(): Promise<{ url: string; goAway: () => Promise<void> }> {
  const target = new URL(S3_URL);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port) || 80 });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    goAway: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.resetAndDestroy();
      await closed;
    },
  };
}

describe.skipIf(!run)('the S3 blob store', () => {
  it('answers NATTER_BLOB_UNAVAILABLE and leaves no object when the server goes away mid-upload', async () => {
    const p = prefix();
    const proxy = await startProxy();
    const store = testStore(p, { endpoint: proxy.url, maxAttempts: 2, requestTimeoutMs: 5_000 });
    await store.open();
    let sent = 0;
    const bytes = blobTestBytes.randomContent(30 * MIB);
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let offset = 0; offset < bytes.byteLength; offset += 256 * 1024) {
        // After 12 MiB (two parts on their way), the server disappears.
        if (sent >= 12 * MIB && sent < 12 * MIB + 256 * 1024) void proxy.goAway();
        sent += 256 * 1024;
        yield bytes.slice(offset, offset + 256 * 1024);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const error = await store.put(source()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'NATTER_BLOB_UNAVAILABLE' });
    await store.close();

    // Seen directly on the server: no blob, no temp object. (The multipart upload the client could not
    // abort stays open and invisible until a later open() sweeps it or a lifecycle rule expires it.)
    expect(await objectsUnder(admin, p)).toEqual([]);
    const direct = testStore(p);
    await direct.open();
    expect(await blobTestBytes.listAll(direct)).toEqual([]);
    expect(await direct.head(blobTestBytes.sha256Hex(bytes))).toBeNull();
    await direct.close();
  }, 60_000);

  it('aborts the multipart upload when the source fails after some parts were uploaded', async () => {
    const p = prefix();
    const store = testStore(p);
    await store.open();
    const bytes = blobTestBytes.randomContent(16 * MIB);
    const error = new Error('client hung up');
    await expect(store.put(blobTestBytes.failingSource(bytes, 13 * MIB, error, MIB))).rejects.toBe(error);
    expect(await uploadsUnder(admin, p)).toEqual([]);
    expect(await objectsUnder(admin, p)).toEqual([]);
    await store.close();
  }, 60_000);

  it('sweeps stale temp objects and multipart uploads of crashed writers on open', async () => {
    const p = prefix();
    await admin.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: `${p}.tmp/crashed`, Body: 'half' }));
    await admin.send(
      new CreateMultipartUploadCommand({ Bucket: S3_BUCKET, Key: `${p}.tmp/crashed-multipart` }),
    );
    expect(await uploadsUnder(admin, p)).toHaveLength(1);
    // Fresh ones are kept by default (another node may be writing them)...
    const keeping = testStore(p);
    await keeping.open();
    await keeping.close();
    expect(await objectsUnder(admin, p)).toEqual([`${p}.tmp/crashed`]);
    // ...and swept once older than staleTempMs.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const sweeping = testStore(p, { staleTempMs: 1_000 });
    await sweeping.open();
    await sweeping.close();
    expect(await objectsUnder(admin, p)).toEqual([]);
    expect(await uploadsUnder(admin, p)).toEqual([]);
  }, 30_000);

  it('refuses to open on a missing bucket unless told to create it', async () => {
    const store = testStore(prefix(), { bucket: `natter-missing-${Date.now()}`, createBucket: false });
    await expect(store.open()).rejects.toMatchObject({ code: 'NATTER_BLOB_UNAVAILABLE' });
  });

  it('keeps blobs of other prefixes out of list', async () => {
    const [a, b] = [testStore(prefix()), testStore(prefix())];
    await a.open();
    await b.open();
    const { key } = await a.put(blobTestBytes.chunksOf(blobTestBytes.randomContent(1_000)));
    expect((await blobTestBytes.listAll(a)).map((stat) => stat.key)).toEqual([key]);
    expect(await blobTestBytes.listAll(b)).toEqual([]);
    await a.close();
    await b.close();
  });
});
