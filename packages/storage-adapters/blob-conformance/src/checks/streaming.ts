import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { generatedSource, rssTracker } from '../bytes.js';
import { defineBlobCheck } from '../harness.js';

const MIB = 1024 * 1024;

/**
 * A large blob through `put` and back through `get`, with the process's RSS growth bounded well below
 * the blob's size: a store that buffers a whole blob (in `put` or in `get`) fails.
 */
export const largeBlobStreams = defineBlobCheck(
  'streaming',
  'a large blob is stored and read back without being buffered whole',
  async ({ store, scale }) => {
    const write = rssTracker();
    const { source, digest } = generatedSource(scale.largeBlobBytes, write.sample);
    const info = await store.put(source);
    const putGrowth = write.stop();
    expect(info).toMatchObject({ key: digest(), size: scale.largeBlobBytes });

    const read = rssTracker();
    const blob = await store.get(info.key);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of blob!.body) {
      read.sample();
      hash.update(chunk);
      size += chunk.byteLength;
    }
    const getGrowth = read.stop();
    expect(size).toBe(scale.largeBlobBytes);
    expect(hash.digest('hex')).toBe(info.key);
    const mib = (n: number) => `${(n / MIB).toFixed(1)} MiB`;
    expect(putGrowth, `RSS grew by ${mib(putGrowth)} during put`).toBeLessThan(scale.rssGrowthBound);
    expect(getGrowth, `RSS grew by ${mib(getGrowth)} during get`).toBeLessThan(scale.rssGrowthBound);
  },
  { timeoutMs: 240_000 },
);
