import { createS3BlobStore } from '@natter/blob-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smallPng } from './fixtures.js';
import { startMediaServer, type TestUser } from './helpers/media-server.js';

// The radosgw of .ci/services.sh (as the @natter/blob-s3 tests use it).
const S3_URL = process.env.NATTER_S3_URL ?? 'http://127.0.0.1:7480';

describe('downloads with S3 and presigning', () => {
  let server: Awaited<ReturnType<typeof startMediaServer>>;
  let ada: TestUser;
  let eve: TestUser;

  beforeAll(async () => {
    server = await startMediaServer({
      blobs: createS3BlobStore({
        bucket: process.env.NATTER_S3_BUCKET ?? 'natter-test',
        prefix: `media-redirect-${Date.now().toString(36)}/`,
        endpoint: S3_URL,
        region: process.env.NATTER_S3_REGION ?? 'us-east-1',
        credentials: {
          accessKeyId: process.env.NATTER_S3_ACCESS_KEY ?? 'natter',
          secretAccessKey: process.env.NATTER_S3_SECRET_KEY ?? 'natter-secret',
        },
        forcePathStyle: true,
        createBucket: true,
      }),
      presignTtlSeconds: 60,
    });
    ada = await server.signup('ada_s3');
    eve = await server.signup('eve_s3');
  });
  afterAll(async () => {
    // Leave nothing in the shared bucket.
    if (server) for await (const blob of server.blobs.list()) await server.blobs.delete(blob.key);
    await server?.close();
  });

  it('answers the uploader with a short-lived redirect to S3 that serves the bytes; a stranger gets 404', async () => {
    const png = await smallPng(120, 90);
    const media = (await (await server.upload(ada, png, 'image/png', 'p.png')).json()) as {
      id: string;
      size: number;
    };
    const res = await fetch(`${server.url}/v1/media/${media.id}`, {
      headers: { authorization: `Bearer ${ada.token}` },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const location = res.headers.get('location')!;
    expect(location).toMatch(/X-Amz-Expires=60/);
    const direct = await fetch(location);
    expect(direct.status).toBe(200);
    expect(direct.headers.get('content-type')).toBe('image/png');
    expect((await direct.arrayBuffer()).byteLength).toBe(media.size);
    const stranger = await fetch(`${server.url}/v1/media/${media.id}`, {
      headers: { authorization: `Bearer ${eve.token}` },
      redirect: 'manual',
    });
    expect(stranger.status).toBe(404);
  });
});
