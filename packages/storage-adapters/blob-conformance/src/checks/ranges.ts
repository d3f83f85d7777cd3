import type { ByteRange } from '@natter/server-core';
import { isBlobError } from '@natter/server-core';
import { expect } from 'vitest';
import { expectSameBytes, mustResolve, putBytes, randomContent, readAll } from '../bytes.js';
import type { BlobCheckContext } from '../harness.js';
import { defineBlobCheck } from '../harness.js';

const GROUP = 'ranges';
const SIZE = 200_000;

async function expectRange(
  { store }: BlobCheckContext,
  bytes: Uint8Array,
  key: string,
  range: ByteRange,
  start: number,
  end: number,
): Promise<void> {
  const read = await mustResolve(store.get(key, range), `get ${JSON.stringify(range)}`);
  expect(read, JSON.stringify(range)).not.toBeNull();
  expect({ size: read!.size, start: read!.start, end: read!.end }, JSON.stringify(range)).toEqual({
    size: bytes.byteLength,
    start,
    end,
  });
  expectSameBytes(await readAll(read!.body), bytes.slice(start, end + 1), JSON.stringify(range));
}

/** First, middle and last bytes, and an end past the blob. */
export const byteRanges = defineBlobCheck(
  GROUP,
  'get with a range returns the first, a middle and the last bytes, clamping an end past the blob',
  async (context) => {
    const bytes = randomContent(SIZE);
    const { key } = await putBytes(context.store, bytes);
    await expectRange(context, bytes, key, { start: 0, end: 0 }, 0, 0);
    await expectRange(context, bytes, key, { start: 0, end: 99 }, 0, 99);
    await expectRange(context, bytes, key, { start: 70_000, end: 140_123 }, 70_000, 140_123);
    await expectRange(context, bytes, key, { start: SIZE - 1 }, SIZE - 1, SIZE - 1);
    await expectRange(context, bytes, key, { start: 150_000 }, 150_000, SIZE - 1);
    await expectRange(context, bytes, key, { start: 150_000, end: SIZE * 10 }, 150_000, SIZE - 1);
  },
);

/** Suffix ranges (`bytes=-n`). */
export const suffixRanges = defineBlobCheck(
  GROUP,
  'a suffix range returns the last bytes, and the whole blob when longer than it',
  async (context) => {
    const bytes = randomContent(SIZE);
    const { key } = await putBytes(context.store, bytes);
    await expectRange(context, bytes, key, { suffix: 1 }, SIZE - 1, SIZE - 1);
    await expectRange(context, bytes, key, { suffix: 5_000 }, SIZE - 5_000, SIZE - 1);
    await expectRange(context, bytes, key, { suffix: SIZE * 3 }, 0, SIZE - 1);
  },
);

/** Ranges that start past the end. */
export const unsatisfiable = defineBlobCheck(
  GROUP,
  'a range starting at or past the end rejects with NATTER_BLOB_RANGE_NOT_SATISFIABLE carrying the size',
  async ({ store }) => {
    const bytes = randomContent(1_000);
    const { key } = await putBytes(store, bytes);
    for (const range of [{ start: 1_000 }, { start: 5_000, end: 6_000 }]) {
      const error = await store.get(key, range).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(isBlobError(error, 'NATTER_BLOB_RANGE_NOT_SATISFIABLE'), JSON.stringify(range)).toBe(true);
      expect((error as { size?: number }).size).toBe(1_000);
    }
    const empty = await putBytes(store, new Uint8Array(0));
    const error = await store.get(empty.key, { suffix: 10 }).catch((caught: unknown) => caught);
    expect(isBlobError(error, 'NATTER_BLOB_RANGE_NOT_SATISFIABLE')).toBe(true);
  },
);

/** A reader that stops early. */
export const cancelledRead = defineBlobCheck(
  GROUP,
  'cancelling a read part way leaves the blob readable',
  async ({ store }) => {
    const bytes = randomContent(1_500_000);
    const { key } = await putBytes(store, bytes);
    for (let i = 0; i < 5; i++) {
      const read = await store.get(key);
      const reader = read!.body.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      await reader.cancel();
    }
    const read = await store.get(key);
    expectSameBytes(await readAll(read!.body), bytes);
  },
);
