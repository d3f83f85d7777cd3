import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { from, testPipeline } from './fixtures.js';

/** Whether ffmpeg runs here. CI installs it (.ci/services.sh); with CI=true these tests never skip. */
function ffmpegInstalled(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const haveFfmpeg = process.env.CI === 'true' || ffmpegInstalled();
if (!haveFfmpeg) {
  console.warn(
    '\n!!! SKIPPING the video poster tests: ffmpeg/ffprobe are not installed (apt-get install ffmpeg, or run `bash .ci/services.sh`). With CI=true they never skip.\n',
  );
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-video-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A 2-second 320x240 test-pattern MP4, made by ffmpeg itself. */
function testVideo(): Buffer {
  const file = path.join(dir, 'clip.mp4');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=10'],
    ...['-pix_fmt', 'yuv420p', '-c:v', 'mpeg4', file],
  ]);
  return fs.readFileSync(file);
}

describe.skipIf(!haveFfmpeg)('video ingestion (ffmpeg)', () => {
  it('stores a video as is, with its size, duration, a poster thumbnail and a placeholder', async () => {
    const harness = await testPipeline();
    try {
      const video = testVideo();
      const info = await harness.pipeline.ingest(from(video), { filename: 'clip.mp4' });
      expect(info).toMatchObject({
        kind: 'video',
        mime: 'video/mp4',
        width: 320,
        height: 240,
        size: video.byteLength,
      });
      expect(info.durationMs).toBeGreaterThanOrEqual(1_900);
      expect(info.durationMs).toBeLessThanOrEqual(2_100);
      expect((await harness.read(info.blobKey)).equals(video)).toBe(true);
      expect(info.thumbnails.map((t) => [t.size, t.width, t.height])).toEqual([
        [320, 320, 240],
        [800, 320, 240],
      ]);
      const poster = await sharp(await harness.read(info.thumbnails[0]!.blobKey)).metadata();
      expect(poster.format).toBe('webp');
      expect(info.placeholder).toMatch(/^[A-Za-z0-9+/]+=*$/);
    } finally {
      await harness.cleanup();
    }
  });

  it('stores a video ffmpeg cannot read without a poster instead of failing', async () => {
    const harness = await testPipeline();
    try {
      const video = testVideo();
      const broken = Buffer.concat([video.subarray(0, 64), Buffer.alloc(2_000)]);
      const info = await harness.pipeline.ingest(from(broken));
      expect(info).toMatchObject({ kind: 'video', mime: 'video/mp4', thumbnails: [] });
      expect(info.placeholder).toBeUndefined();
    } finally {
      await harness.cleanup();
    }
  });
});

describe('video ingestion without ffmpeg', () => {
  it('stores the video without a poster when video processing is off', async () => {
    const harness = await testPipeline({ ffmpeg: false });
    try {
      // The first bytes of an MP4 (an ftyp box) suffice for sniffing.
      const mp4 = Buffer.concat([
        Buffer.from('0000001866747970697336360000000069736f6d', 'hex'),
        Buffer.alloc(5_000),
      ]);
      const info = await harness.pipeline.ingest(from(mp4));
      expect(info).toMatchObject({ kind: 'video', thumbnails: [] });
      expect(info.durationMs).toBeUndefined();
    } finally {
      await harness.cleanup();
    }
  });
});
