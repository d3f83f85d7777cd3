import { expect } from 'vitest';
import { chunksOf, expectSameBytes, getBytes, listAll, randomContent, sha256Hex } from '../bytes.js';
import { defineBlobCheck } from '../harness.js';

const GROUP = 'concurrency';

/** Many uploads of one file at once (a retried upload, two devices sending the same photo). */
export const concurrentSameContent = defineBlobCheck(
  GROUP,
  'concurrent puts of the same bytes all answer the same key and leave one intact blob',
  async ({ store, scale }) => {
    const bytes = randomContent(3 * 1024 * 1024 + 17);
    const results = await Promise.all(
      Array.from({ length: scale.concurrentPuts }, () => store.put(chunksOf(bytes, 100_000))),
    );
    const key = sha256Hex(bytes);
    for (const result of results) expect(result).toEqual({ key, sha256: key, size: bytes.byteLength });
    expect((await listAll(store)).map((stat) => stat.key)).toEqual([key]);
    expectSameBytes(await getBytes(store, key), bytes);
  },
  { timeoutMs: 60_000 },
);

/** Different uploads at once do not mix. */
export const concurrentDifferentContent = defineBlobCheck(
  GROUP,
  'concurrent puts of different bytes each store their own blob',
  async ({ store, scale }) => {
    const contents = Array.from({ length: scale.concurrentPuts }, (_, i) => randomContent(200_000 + i));
    const results = await Promise.all(contents.map((bytes) => store.put(chunksOf(bytes, 50_000))));
    expect(results.map((r) => r.key)).toEqual(contents.map((bytes) => sha256Hex(bytes)));
    for (const bytes of contents) expectSameBytes(await getBytes(store, sha256Hex(bytes)), bytes);
    expect((await listAll(store)).length).toBe(contents.length);
  },
  { timeoutMs: 60_000 },
);

/** A blob being read while it is deleted. */
export const readDuringDelete = defineBlobCheck(
  GROUP,
  'a blob deleted while being read is either read whole or cut with an error, never read wrong',
  async ({ store }) => {
    const bytes = randomContent(2 * 1024 * 1024);
    const { key } = await store.put(chunksOf(bytes));
    const read = await store.get(key);
    await store.delete(key);
    const parts: Uint8Array[] = [];
    try {
      for await (const chunk of read!.body) parts.push(chunk);
    } catch {
      return; // Cut off: acceptable, as long as nothing wrong was delivered.
    }
    expectSameBytes(Buffer.concat(parts), bytes);
  },
);
