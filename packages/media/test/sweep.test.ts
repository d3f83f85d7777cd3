import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import { createMetrics, silentLogger } from '@natter/server-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteMediaStore, MediaService } from '../src/index.js';
import { smallPng } from './fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('media sweep', () => {
  it('deletes uploads never attached after the TTL, with their blobs, and keeps younger ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-media-sweep-'));
    dirs.push(dir);
    let now = 1_000_000;
    const blobs = createFsBlobStore({ root: path.join(dir, 'blobs'), fsync: false });
    const store = createSqliteMediaStore({ path: path.join(dir, 'media.sqlite') });
    const media = new MediaService(
      {
        blobs,
        store,
        pipeline: { tempDir: path.join(dir, 'tmp'), ffmpeg: false },
        unattachedTtlMs: 60_000,
        blobGraceMs: 0,
        // The blob store's clock is the real one; the sweep's must not be behind it.
        now: () => Date.now() + now - 1_000_000,
      },
      {
        logger: silentLogger(),
        metrics: createMetrics({ defaults: false }),
        authenticate: async () => 'u_ada',
        isMember: async () => false,
      },
    );
    await media.start();
    try {
      const upload = (bytes: Uint8Array) =>
        media.upload(new Request('http://x/v1/media', { method: 'POST', body: bytes }), 'u_ada', undefined);
      const old = await upload(await smallPng(100, 80));
      now += 30_000;
      const young = await upload(await smallPng(90, 70));
      now += 31_000; // old is 61 s old, young 31 s
      await media.sweep();
      expect(await store.get(old.id)).toBeUndefined();
      expect(await blobs.head(old.sha256)).toBeNull();
      expect(await store.get(young.id)).toBeDefined();
      expect(await blobs.head(young.sha256)).not.toBeNull();
    } finally {
      await media.stop();
    }
  });
});
