import { isBlobError } from '@natter/server-core';
import { expect } from 'vitest';
import { expectSameBytes, getBytes, putBytes, randomContent } from '../bytes.js';
import { defineBlobCheck } from '../harness.js';

/** A presigned URL serves the bytes with the requested headers, to anyone, for a while. */
export const presignServes = defineBlobCheck(
  'presign',
  'a presigned URL serves the blob with the given Content-Type and Content-Disposition',
  async ({ store }) => {
    const bytes = randomContent(50_000);
    const { key } = await putBytes(store, bytes);
    const url = await store.presignGet!(key, {
      ttlSeconds: 60,
      contentType: 'application/pdf',
      contentDisposition: 'attachment; filename="report.pdf"',
    });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="report.pdf"');
    expectSameBytes(new Uint8Array(await response.arrayBuffer()), bytes);
  },
  { needsCapability: 'presign' },
);

/** The URL stops working after its TTL. */
export const presignExpires = defineBlobCheck(
  'presign',
  'a presigned URL stops working after its TTL',
  async ({ store }) => {
    const { key } = await putBytes(store, randomContent(1_000));
    const url = await store.presignGet!(key, { ttlSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const response = await fetch(url);
    await response.arrayBuffer();
    expect(response.status).toBe(403);
  },
  { needsCapability: 'presign', timeoutMs: 15_000 },
);

/** Blobs survive a restart. */
export const survivesReopen = defineBlobCheck(
  'persistence',
  'stored blobs survive close and reopen, deleted ones stay deleted',
  async (context) => {
    const kept = randomContent(123_456);
    const { key } = await putBytes(context.store, kept);
    const gone = await putBytes(context.store, randomContent(1_000));
    await context.store.delete(gone.key);
    const store = await context.reopen!();
    expectSameBytes(await getBytes(store, key), kept);
    expect(await store.head(gone.key)).toBeNull();
  },
  { needsReopen: true },
);

/** A closed store refuses work with a typed error. */
export const closedRefuses = defineBlobCheck(
  'lifecycle',
  'a closed store rejects put with NATTER_BLOB_CLOSED',
  async ({ store }) => {
    await store.close();
    const error = await putBytes(store, randomContent(10)).catch((caught: unknown) => caught);
    expect(isBlobError(error, 'NATTER_BLOB_CLOSED'), String(error)).toBe(true);
  },
);
