import sharp from 'sharp';
import { rgbaToThumbHash, thumbHashToRGBA } from 'thumbhash';
import { afterEach, describe, expect, it } from 'vitest';
import { isInlineSafe } from '../src/index.js';
import { from, pngClaiming, smallPng, testPipeline, trackedSource, twelveMegapixelJpeg } from './fixtures.js';

const harnesses: Array<Awaited<ReturnType<typeof testPipeline>>> = [];
async function setup(...args: Parameters<typeof testPipeline>) {
  const harness = await testPipeline(...args);
  harnesses.push(harness);
  return harness;
}
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

describe('image ingestion', () => {
  it('applies the orientation, strips EXIF and GPS, and scales a 12 MP JPEG down to 2048 px', async () => {
    const { pipeline, read } = await setup();
    const jpeg = await twelveMegapixelJpeg();
    const original = await sharp(jpeg).metadata();
    expect(original.orientation).toBe(6);
    expect(original.exif?.includes(Buffer.from('NatterCam'))).toBe(true);

    const info = await pipeline.ingest(from(jpeg), { declaredType: 'image/jpeg', filename: 'IMG_0001.JPG' });
    expect(info).toMatchObject({ kind: 'image', mime: 'image/jpeg', width: 1536, height: 2048 });
    const stored = await read(info.blobKey);
    const meta = await sharp(stored).metadata();
    // Upright (portrait), with no EXIF block at all: no orientation, no camera, no GPS.
    expect({ width: meta.width, height: meta.height }).toEqual({ width: 1536, height: 2048 });
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    expect(stored.includes(Buffer.from('NatterCam'))).toBe(false);
    expect(info.size).toBe(stored.byteLength);
    expect(info.size).toBeLessThan(jpeg.byteLength);
    expect(info.source).toMatchObject({ size: jpeg.byteLength, declaredType: 'image/jpeg' });
    expect(info.filename).toBe('IMG_0001.JPG');
    expect(isInlineSafe(info.mime)).toBe(true);
  }, 60_000);

  it('makes WebP thumbnails at 320 and 800 px and a ThumbHash placeholder of the upright image', async () => {
    const { pipeline, read } = await setup();
    const info = await pipeline.ingest(from(await twelveMegapixelJpeg()));
    expect(info.thumbnails.map(({ size, width, height }) => ({ size, width, height }))).toEqual([
      { size: 320, width: 240, height: 320 },
      { size: 800, width: 600, height: 800 },
    ]);
    for (const thumbnail of info.thumbnails) {
      const bytes = await read(thumbnail.blobKey);
      expect(bytes.byteLength).toBe(thumbnail.bytes);
      const meta = await sharp(bytes).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: 'webp',
        width: thumbnail.width,
        height: thumbnail.height,
      });
    }
    const hash = Buffer.from(info.placeholder!, 'base64');
    expect(hash.byteLength).toBeLessThan(40);
    const decoded = thumbHashToRGBA(hash);
    // Portrait: the placeholder keeps the upright aspect ratio.
    expect(decoded.h).toBeGreaterThan(decoded.w);
    expect(typeof rgbaToThumbHash).toBe('function');
  }, 60_000);

  it('keeps a small PNG a PNG at its size, with transparency', async () => {
    const { pipeline, read } = await setup();
    const info = await pipeline.ingest(from(await smallPng(64, 48)));
    expect(info).toMatchObject({ kind: 'image', mime: 'image/png', width: 64, height: 48 });
    const meta = await sharp(await read(info.blobKey)).metadata();
    expect(meta).toMatchObject({ format: 'png', hasAlpha: true, width: 64, height: 48 });
    expect(info.thumbnails.map((t) => [t.width, t.height])).toEqual([
      [64, 48],
      [64, 48],
    ]);
  });

  it('refuses a truncated JPEG with NATTER_MEDIA_INVALID and stores nothing', async () => {
    const { pipeline, keys } = await setup();
    const jpeg = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#888' } })
      .jpeg()
      .toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.byteLength / 2));
    await expect(pipeline.ingest(from(truncated))).rejects.toMatchObject({ code: 'NATTER_MEDIA_INVALID' });
    expect(await keys()).toEqual([]);
  });

  it('refuses a truncated PNG with NATTER_MEDIA_INVALID', async () => {
    const { pipeline } = await setup();
    const png = await sharp({
      create: {
        width: 400,
        height: 400,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 100, sigma: 50 },
      },
    })
      .png()
      .toBuffer();
    await expect(pipeline.ingest(from(png.subarray(0, png.byteLength - 5_000)))).rejects.toMatchObject({
      code: 'NATTER_MEDIA_INVALID',
    });
  });

  it('refuses a 1x1 PNG claiming 100k x 100k pixels before decoding it', async () => {
    const { pipeline, keys } = await setup();
    const bomb = await pngClaiming(100_000, 100_000);
    expect(await sharp(bomb, { limitInputPixels: false }).metadata()).toMatchObject({
      width: 100_000,
      height: 100_000,
    });
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    const error = await pipeline
      .ingest(from(bomb), { declaredType: 'image/png' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'NATTER_MEDIA_INVALID' });
    expect((error as Error).message).toMatch(/100000x100000/);
    // Refused from the header: no 40 GB decode, no noticeable time or memory.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(64 * 1024 * 1024);
    expect(await keys()).toEqual([]);
  });

  it('refuses an image over a configured pixel limit', async () => {
    const { pipeline } = await setup({ image: { maxInputPixels: 1_000 } });
    await expect(pipeline.ingest(from(await smallPng(40, 40)))).rejects.toMatchObject({
      code: 'NATTER_MEDIA_INVALID',
    });
  });

  it('refuses HTML behind a PNG signature (a lying type) with NATTER_MEDIA_INVALID', async () => {
    const { pipeline, keys } = await setup();
    const png = await smallPng(1, 1);
    const lying = Buffer.concat([
      png.subarray(0, 16),
      Buffer.from('<html><script>alert(document.cookie)</script></html>'),
    ]);
    const { source, state } = trackedSource(lying);
    await expect(
      pipeline.ingest(source, { declaredType: 'image/png', filename: 'cat.png' }),
    ).rejects.toMatchObject({
      code: 'NATTER_MEDIA_INVALID',
    });
    expect(state.pulled).toBe(lying.byteLength);
    expect(await keys()).toEqual([]);
  });
});
