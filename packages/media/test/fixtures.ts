import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { createFsBlobStore } from '@natter/blob-fs';
import type { BlobStore } from '@natter/server-core';
import sharp from 'sharp';
import type { MediaPipelineOptions } from '../src/index.js';
import { createMediaPipeline } from '../src/index.js';

/** A pipeline over a fresh filesystem blob store, and a way to remove everything it made. */
export async function testPipeline(options: Partial<MediaPipelineOptions> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-media-test-'));
  const blobs: BlobStore = createFsBlobStore({ root: path.join(dir, 'blobs'), fsync: false });
  await blobs.open();
  const tempDir = path.join(dir, 'tmp');
  const pipeline = createMediaPipeline({ blobs, tempDir, ...options });
  return {
    pipeline,
    blobs,
    tempDir,
    /** Keys of every stored blob. */
    keys: async () => {
      const keys: string[] = [];
      for await (const stat of blobs.list()) keys.push(stat.key);
      return keys.sort();
    },
    /** The bytes of a stored blob. */
    read: async (key: string) => {
      const read = await blobs.get(key);
      if (!read) throw new Error(`no blob ${key}`);
      return Buffer.from(await new Response(read.body).arrayBuffer());
    },
    cleanup: async () => {
      await blobs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A source over `bytes` in `chunkSize` chunks that records how many bytes were pulled from it and
 * whether it was cancelled, to prove what the pipeline read.
 */
export function trackedSource(bytes: Uint8Array, chunkSize = 64 * 1024) {
  const state = { pulled: 0, cancelled: false, finished: false };
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
        const chunk = bytes.slice(offset, offset + chunkSize);
        state.pulled += chunk.byteLength;
        yield chunk;
      }
      state.finished = true;
    } finally {
      if (!state.finished) state.cancelled = true;
    }
  }
  return { source: source(), state };
}

/**
 * A 12-megapixel (4000 x 3000) JPEG of noise, shot "sideways": EXIF orientation 6 (display rotated 90
 * degrees clockwise, so 3000 x 4000 upright) and a GPS position in its EXIF.
 */
export async function twelveMegapixelJpeg(): Promise<Buffer> {
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
    .withExif({
      IFD0: { Make: 'NatterCam', Model: 'Test 12MP' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '52/1 31/1 0/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '13/1 24/1 0/1',
      },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** A small PNG of the given size. */
export function smallPng(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 0.5 } } })
    .png()
    .toBuffer();
}

/** A PNG of noise: it hardly compresses, so it is large for its size. */
export function noisyPng(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 100, sigma: 50 },
    },
  })
    .png()
    .toBuffer();
}

/**
 * A decompression bomb: a real 1x1 PNG whose header (IHDR, with a correct CRC) claims
 * `width` x `height` pixels; decoding it would allocate gigabytes.
 */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await smallPng(1, 1));
  // Signature (8) + IHDR length (4) + "IHDR" (4): width and height follow, then the CRC of type + data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/**
 * A zip bomb: one entry of `size` zero bytes, deflated to almost nothing (64 MiB become ~64 KiB).
 * Unpacking it is what a careless server would do; storing it as is is what natter does.
 */
export function zipBomb(size = 64 * 1024 * 1024): Buffer {
  const data = deflateRawSync(Buffer.alloc(size), { level: 9 });
  const name = Buffer.from('zeros.bin');
  const crc = crc32(Buffer.alloc(size));
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.byteLength, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(name.byteLength, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.byteLength, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(name.byteLength, 28);
  const centralOffset = local.byteLength + name.byteLength + data.byteLength;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.byteLength + name.byteLength, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/** A minimal PDF (enough for type sniffing). */
export function pdf(): Buffer {
  return Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
}

/** An upload source over the given buffers, one chunk each. */
export async function* from(...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}
