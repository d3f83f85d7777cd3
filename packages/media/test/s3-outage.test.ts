import { randomBytes } from 'node:crypto';
import { createS3BlobStore, type S3BlobStoreOptions } from '@natter/blob-s3';
import type { BlobStore } from '@natter/server-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdf } from './fixtures.js';
import { startMediaServer, type TestUser } from './helpers/media-server.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

// The radosgw of .ci/services.sh; the node reaches it through a proxy the test can cut.
const S3_URL = new URL(process.env.NATTER_S3_URL ?? 'http://127.0.0.1:7480');
const MIB = 1024 * 1024;
const UPLOAD_BYTES = 20 * MIB;
const UPLOADS = 4;

const s3Options = (endpoint: string, prefix: string): S3BlobStoreOptions => ({
  bucket: process.env.NATTER_S3_BUCKET ?? 'natter-test',
  prefix,
  endpoint,
  region: process.env.NATTER_S3_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.NATTER_S3_ACCESS_KEY ?? 'natter',
    secretAccessKey: process.env.NATTER_S3_SECRET_KEY ?? 'natter-secret',
  },
  forcePathStyle: true,
  createBucket: true,
  // A gone server must fail the upload in bounded time.
  maxAttempts: 2,
  requestTimeoutMs: 5_000,
});

/**
 * A streamed PDF of `total` bytes, generated as it is read (never held whole); `pulled` counts what the
 * HTTP client has taken from it, which backpressure bounds by what the node has read.
 */
function pdfStream(total: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  const head = pdf();
  const block = randomBytes(256 * 1024);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) return controller.close();
        const chunk =
          sent === 0 ? head : Buffer.from(block.subarray(0, Math.min(block.byteLength, total - sent)));
        if (sent > 0) chunk.writeDoubleBE(Math.random(), 0);
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulled: () => sent };
}

describe('an S3 server that goes away mid-upload', () => {
  let proxy: TcpProxy;
  let server: Awaited<ReturnType<typeof startMediaServer>>;
  let direct: BlobStore;
  const prefix = `media-outage-${Date.now().toString(36)}/`;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: S3_URL.hostname, port: Number(S3_URL.port) });
    server = await startMediaServer({
      blobs: createS3BlobStore(s3Options(`http://127.0.0.1:${proxy.port}`, prefix)),
    });
    // The same bucket and prefix, not through the proxy: what S3 really holds.
    direct = createS3BlobStore(s3Options(S3_URL.origin, prefix));
    await direct.open();
  });
  afterAll(async () => {
    if (direct) {
      for await (const blob of direct.list()) await direct.delete(blob.key);
      await direct.close();
    }
    await proxy?.restore().catch(() => undefined);
    await server?.close();
    await proxy?.close();
  });

  it('fails the uploads with a typed error, stores nothing visible, stays bounded in memory, and leaves chat working', async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < UPLOADS; i++) users.push(await server.signup(`ada_outage_${i}`));
    const bob = await server.signup('bob_outage');
    const channel = await server.direct(users[0]!, bob);

    const bodies = users.map(() => pdfStream(UPLOAD_BYTES));
    const answers = users.map((user, i) =>
      fetch(`${server.url}/v1/media?filename=big.pdf`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
        body: bodies[i]!.body,
        duplex: 'half',
      } as RequestInit).then(
        async (res) => ({ status: res.status, body: (await res.json()) as { error?: { code: string } } }),
        (error: unknown) => ({ status: 0, body: { error: { code: String(error) } } }),
      ),
    );
    // S3 goes away once the uploads are well under way.
    const deadline = Date.now() + 30_000;
    while (proxy.bytesUp < (UPLOADS * UPLOAD_BYTES) / 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const toS3 = proxy.bytesUp;
    await proxy.cut();

    const results = await Promise.all(answers);
    for (const result of results) {
      expect(result.status).toBe(503);
      expect(result.body.error?.code).toBe('NATTER_BLOB_UNAVAILABLE');
    }
    // Bounded: the node read the bodies only as fast as S3 took them (what it had read and not sent on is
    // the part being filled and the socket buffers, a few MiB per upload; 4.6 MiB measured), and stopped
    // reading once S3 was gone: it never took the rest of the uploads into memory.
    const pulled = bodies.map((b) => b.pulled());
    const read = pulled.reduce((sum, bytes) => sum + bytes, 0);
    expect(read).toBeLessThan(UPLOADS * UPLOAD_BYTES);
    expect((read - toS3) / UPLOADS).toBeLessThan(12 * MIB);

    // Nothing half-written: no record, no quota used, no object in the bucket under a content address.
    for (const user of users) expect(await server.store.usage(user.id)).toBe(0);
    const objects: string[] = [];
    for await (const blob of direct.list()) objects.push(blob.key);
    expect(objects).toEqual([]);

    // Other users are unaffected: chat goes on while S3 is away.
    const sent = await server.send(bob, { channelId: channel, clientMsgId: 'c-outage', text: 'still here' });
    expect(sent.t).toBe('ack');

    // S3 comes back: uploads work again on the same node.
    await proxy.restore();
    const retry = await server.upload(users[0]!, Buffer.concat([pdf(), randomBytes(MIB)]), 'application/pdf');
    expect(retry.status).toBe(201);
  });
});
