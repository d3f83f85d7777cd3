import { isBlobError } from '@natter/server-core';
import { expect } from 'vitest';
import {
  chunksOf,
  expectSameBytes,
  failingSource,
  getBytes,
  listAll,
  randomContent,
  stallingSource,
} from '../bytes.js';
import { defineBlobCheck } from '../harness.js';

const GROUP = 'failing sources';
const MIB = 1024 * 1024;

/** The source's own error comes back, and nothing is left. */
export const failingSmallSource = defineBlobCheck(
  GROUP,
  'a source that throws makes put reject with that error and leaves no blob',
  async ({ store }) => {
    const bytes = randomContent(MIB);
    const error = new Error('client went away');
    await expect(store.put(failingSource(bytes, 300_000, error))).rejects.toBe(error);
    expect(await listAll(store)).toEqual([]);
  },
);

/** Past a multipart upload's first parts (S3 uploads 5 MiB and more in parts). */
export const failingLargeSource = defineBlobCheck(
  GROUP,
  'a source that throws after several megabytes leaves no blob, also not a partial upload',
  async ({ store }) => {
    const bytes = randomContent(20 * MIB);
    const error = new Error('connection reset');
    await expect(store.put(failingSource(bytes, 17 * MIB, error, 512 * 1024))).rejects.toBe(error);
    expect(await listAll(store)).toEqual([]);
  },
  { timeoutMs: 60_000 },
);

/** An upload cancelled through its signal, while the source is stalled. */
export const abortedPut = defineBlobCheck(
  GROUP,
  'aborting a put through its signal rejects with NATTER_BLOB_ABORTED and leaves no blob',
  async ({ store }) => {
    const bytes = randomContent(MIB);
    const controller = new AbortController();
    const pending = store.put(stallingSource(bytes, 400_000), { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await pending.catch((caught: unknown) => caught);
    expect(isBlobError(error, 'NATTER_BLOB_ABORTED'), String(error)).toBe(true);
    expect(await listAll(store)).toEqual([]);
    const already = new AbortController();
    already.abort();
    const early = await store
      .put(chunksOf(bytes), { signal: already.signal })
      .catch((caught: unknown) => caught);
    expect(isBlobError(early, 'NATTER_BLOB_ABORTED')).toBe(true);
    expect(await listAll(store)).toEqual([]);
  },
);

/** One failing upload does not disturb another. */
export const failureIsolated = defineBlobCheck(
  GROUP,
  'a failing put does not disturb a concurrent put of other bytes',
  async ({ store }) => {
    const good = randomContent(2 * MIB);
    const bad = randomContent(2 * MIB);
    const error = new Error('boom');
    const [ok, failed] = await Promise.allSettled([
      store.put(chunksOf(good)),
      store.put(failingSource(bad, MIB, error)),
    ]);
    expect(failed).toEqual({ status: 'rejected', reason: error });
    expect(ok.status).toBe('fulfilled');
    const { key } = (ok as PromiseFulfilledResult<{ key: string }>).value;
    expectSameBytes(await getBytes(store, key), good);
    expect((await listAll(store)).map((stat) => stat.key)).toEqual([key]);
  },
);
