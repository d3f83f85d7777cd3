import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { blobTestBytes } from '@natter/blob-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { isInlineSafe } from '../src/index.js';
import { from, noisyPng, pdf, testPipeline, trackedSource, zipBomb } from './fixtures.js';

const MIB = 1024 * 1024;
const harnesses: Array<Awaited<ReturnType<typeof testPipeline>>> = [];
async function setup(...args: Parameters<typeof testPipeline>) {
  const harness = await testPipeline(...args);
  harnesses.push(harness);
  return harness;
}
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

describe('the size limit', () => {
  it('refuses an upload over the limit with NATTER_MEDIA_TOO_LARGE without reading past it', async () => {
    const { pipeline, keys } = await setup({ maxUploadBytes: 2 * MIB });
    const { source, state } = trackedSource(randomBytes(5 * MIB), 64 * 1024);
    await expect(pipeline.ingest(source)).rejects.toMatchObject({ code: 'NATTER_MEDIA_TOO_LARGE' });
    // The chunk that crossed the limit is the last one read; the source was cancelled.
    expect(state.pulled).toBeLessThanOrEqual(2 * MIB + 64 * 1024);
    expect(state.cancelled).toBe(true);
    expect(await keys()).toEqual([]);
  });

  it('refuses a declared size over the limit before reading a byte', async () => {
    const { pipeline } = await setup({ maxUploadBytes: MIB });
    const { source, state } = trackedSource(randomBytes(10));
    await expect(pipeline.ingest(source, { declaredSize: MIB + 1 })).rejects.toMatchObject({
      code: 'NATTER_MEDIA_TOO_LARGE',
    });
    expect(state.pulled).toBe(0);
  });

  it('accepts an upload of exactly the limit', async () => {
    const { pipeline } = await setup({ maxUploadBytes: MIB });
    const info = await pipeline.ingest(trackedSource(randomBytes(MIB)).source);
    expect(info.size).toBe(MIB);
  });

  it('refuses an image over the limit the same way (images are spooled, still counted)', async () => {
    const { pipeline, tempDir } = await setup({ maxUploadBytes: 100_000 });
    const png = await noisyPng(400, 400);
    expect(png.byteLength).toBeGreaterThan(300_000);
    await expect(pipeline.ingest(trackedSource(png).source)).rejects.toMatchObject({
      code: 'NATTER_MEDIA_TOO_LARGE',
    });
    expect(fs.readdirSync(tempDir)).toEqual([]);
  });
});

describe('types', () => {
  it('stores HTML declared as an image as an opaque attachment, never as the declared type', async () => {
    const { pipeline, read } = await setup();
    const html = Buffer.from('<!doctype html><html><script>alert(1)</script></html>');
    const info = await pipeline.ingest(from(html), { declaredType: 'image/png', filename: 'cat.png' });
    expect(info).toMatchObject({ kind: 'file', mime: 'application/octet-stream', thumbnails: [] });
    expect(isInlineSafe(info.mime)).toBe(false);
    expect(info.source.declaredType).toBe('image/png');
    expect((await read(info.blobKey)).equals(html)).toBe(true);
  });

  it('stores SVG as an opaque attachment (it can carry scripts), never as image/svg+xml', async () => {
    const { pipeline } = await setup();
    const svg = Buffer.from(
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    );
    const info = await pipeline.ingest(from(svg), { declaredType: 'image/svg+xml', filename: 'logo.svg' });
    expect(info.kind).toBe('file');
    expect(info.mime).not.toMatch(/svg|html/);
    expect(isInlineSafe(info.mime)).toBe(false);
  });

  it('sniffs a PDF declared as something else', async () => {
    const { pipeline } = await setup();
    const info = await pipeline.ingest(from(pdf()), { declaredType: 'text/plain', filename: 'report' });
    expect(info).toMatchObject({ kind: 'file', mime: 'application/pdf', filename: 'report' });
  });

  it('refuses a type outside the allowlist with NATTER_MEDIA_TYPE_NOT_ALLOWED and cancels the upload', async () => {
    const { pipeline, keys } = await setup({ allowedTypes: ['image/*', 'video/mp4'] });
    const padded = Buffer.concat([pdf(), randomBytes(MIB)]);
    const { source, state } = trackedSource(padded, 16 * 1024);
    await expect(pipeline.ingest(source, { declaredType: 'image/png' })).rejects.toMatchObject({
      code: 'NATTER_MEDIA_TYPE_NOT_ALLOWED',
    });
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(64 * 1024);
    expect(await keys()).toEqual([]);
  });

  it('treats unrecognised bytes as application/octet-stream for the allowlist', async () => {
    const { pipeline } = await setup({ allowedTypes: ['application/pdf'] });
    await expect(pipeline.ingest(from(randomBytes(1_000)))).rejects.toMatchObject({
      code: 'NATTER_MEDIA_TYPE_NOT_ALLOWED',
    });
  });

  it('stores a zip bomb as is and never expands it', async () => {
    const { pipeline, read, tempDir } = await setup();
    const bomb = zipBomb(64 * MIB);
    expect(bomb.byteLength).toBeLessThan(200 * 1024);
    const rssBefore = process.memoryUsage.rss();
    const info = await pipeline.ingest(from(bomb), { filename: 'archive.zip' });
    expect(info).toMatchObject({
      kind: 'file',
      mime: 'application/zip',
      size: bomb.byteLength,
      thumbnails: [],
    });
    expect((await read(info.blobKey)).equals(bomb)).toBe(true);
    expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(32 * MIB);
    // Files stream straight to the blob store: nothing was unpacked or spooled.
    expect(fs.existsSync(tempDir) ? fs.readdirSync(tempDir) : []).toEqual([]);
  });

  it('answers the hashes of the stored and of the received bytes', async () => {
    const { pipeline } = await setup();
    const bytes = randomBytes(300_000);
    const info = await pipeline.ingest(trackedSource(bytes).source);
    const sha = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    expect(info).toMatchObject({ blobKey: sha, sha256: sha, source: { sha256: sha, size: 300_000 } });
  });
});

describe('aborting', () => {
  it('stops reading and stores nothing when the signal aborts', async () => {
    const { pipeline, keys } = await setup();
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield pdf();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      yield randomBytes(10);
    }
    setTimeout(() => controller.abort(), 50);
    await expect(pipeline.ingest(slow(), { signal: controller.signal })).rejects.toMatchObject({
      code: 'NATTER_BLOB_ABORTED',
    });
    expect(await keys()).toEqual([]);
  });
});

describe('memory', () => {
  it('streams 10 concurrent 10 MiB uploads with RSS growth far below the bytes in flight', async () => {
    const { pipeline } = await setup({ maxUploadBytes: 16 * MIB });
    const rss = blobTestBytes.rssTracker();
    const uploads = Array.from({ length: 10 }, () => {
      const { source } = blobTestBytes.generatedSource(10 * MIB, rss.sample);
      return pipeline.ingest(source, { filename: 'data.bin' });
    });
    const results = await Promise.all(uploads);
    const growth = rss.stop();
    expect(results.every((info) => info.size === 10 * MIB)).toBe(true);
    // Buffering would hold 100 MiB; streaming holds a few chunks per upload.
    expect(growth, `RSS grew by ${(growth / MIB).toFixed(1)} MiB`).toBeLessThan(25 * MIB);
  }, 60_000);
});
