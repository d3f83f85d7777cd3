import { expect } from 'vitest';
import {
  expectSameBytes,
  getBytes,
  listAll,
  mustResolve,
  putBytes,
  randomContent,
  sha256Hex,
} from '../bytes.js';
import { defineBlobCheck } from '../harness.js';

const GROUP = 'put and get';

/** `put` answers the content address; `get` returns the same bytes. */
export const roundTrip = defineBlobCheck(
  GROUP,
  'put answers the SHA-256 of the bytes as key and sha256, their length as size, and get returns them',
  async ({ store }) => {
    const bytes = randomContent(300_001);
    const info = await putBytes(store, bytes);
    expect(info).toEqual({ key: sha256Hex(bytes), sha256: sha256Hex(bytes), size: bytes.byteLength });
    const read = await store.get(info.key);
    expect(read).not.toBeNull();
    expect(read!.size).toBe(bytes.byteLength);
    expect(read!.start).toBe(0);
    expect(read!.end).toBe(bytes.byteLength - 1);
    await read!.body.cancel();
    expectSameBytes(await getBytes(store, info.key), bytes);
  },
);

/** Empty blobs are legal (an empty file is a valid attachment). */
export const emptyBlob = defineBlobCheck(GROUP, 'an empty blob round-trips', async ({ store }) => {
  const info = await putBytes(store, new Uint8Array(0));
  expect(info).toEqual({ key: sha256Hex(new Uint8Array(0)), sha256: sha256Hex(new Uint8Array(0)), size: 0 });
  const read = await store.get(info.key);
  expect(read?.size).toBe(0);
  await read!.body.cancel();
  expect(await getBytes(store, info.key)).toEqual(new Uint8Array(0));
});

/** The same bytes stored twice are one blob. */
export const samePutTwice = defineBlobCheck(
  GROUP,
  'putting bytes already stored answers the same key and keeps one blob',
  async ({ store }) => {
    const bytes = randomContent(10_000);
    const first = await putBytes(store, bytes);
    const second = await putBytes(store, bytes);
    expect(second).toEqual(first);
    expect((await listAll(store)).map((stat) => stat.key)).toEqual([first.key]);
  },
);

/** `head` describes without reading. */
export const headDescribes = defineBlobCheck(
  GROUP,
  'head answers key, size, sha256 and a recent modifiedAt of a stored blob',
  async ({ store }) => {
    const before = Date.now();
    const bytes = randomContent(4_321);
    const { key } = await putBytes(store, bytes);
    const stat = await store.head(key);
    expect(stat).toMatchObject({ key, size: 4_321, sha256: key });
    // Backends keep whole seconds (S3's Last-Modified); allow that much, plus clock skew to a local server.
    expect(stat!.modifiedAt).toBeGreaterThanOrEqual(before - 2_000);
    expect(stat!.modifiedAt).toBeLessThanOrEqual(Date.now() + 2_000);
  },
);

/** `list` yields exactly what is stored. */
export const listsStored = defineBlobCheck(GROUP, 'list yields every stored blob once', async ({ store }) => {
  const keys = [];
  for (const size of [1, 1_000, 70_000]) keys.push((await putBytes(store, randomContent(size))).key);
  const listed = await listAll(store);
  expect(listed.map((stat) => stat.key).sort()).toEqual([...keys].sort());
  for (const stat of listed) expect(stat.sha256).toBe(stat.key);
  expect(listed.map((stat) => stat.size).sort((a, b) => a - b)).toEqual([1, 1_000, 70_000]);
});

/** Missing and malformed keys. */
export const missing = defineBlobCheck(
  'missing blobs',
  'head and get answer null for a missing key and for strings that are not keys',
  async ({ store }) => {
    const absent = sha256Hex(randomContent(16));
    expect(await mustResolve(store.head(absent), 'head of a missing key')).toBeNull();
    expect(await mustResolve(store.get(absent), 'get of a missing key')).toBeNull();
    expect(
      await mustResolve(store.get(absent, { start: 0, end: 10 }), 'ranged get of a missing key'),
    ).toBeNull();
    for (const bad of ['', '../../etc/passwd', absent.toUpperCase(), `${absent}/x`, 'a'.repeat(64) + '\0']) {
      expect(await mustResolve(store.head(bad), `head of ${bad}`), bad).toBeNull();
      expect(await mustResolve(store.get(bad), `get of ${bad}`), bad).toBeNull();
      await mustResolve(store.delete(bad), `delete of ${bad}`);
    }
  },
);

/** Delete removes and is idempotent. */
export const deleteIdempotent = defineBlobCheck(
  'delete',
  'delete removes a blob from head, get and list, and deleting again or a missing key resolves',
  async ({ store }) => {
    const kept = await putBytes(store, randomContent(100));
    const { key } = await putBytes(store, randomContent(2_000));
    await store.delete(key);
    expect(await store.head(key)).toBeNull();
    expect(await store.get(key)).toBeNull();
    expect((await listAll(store)).map((stat) => stat.key)).toEqual([kept.key]);
    await mustResolve(store.delete(key), 'a second delete');
    await mustResolve(store.delete(sha256Hex(randomContent(8))), 'delete of a missing key');
    expect(await getBytes(store, kept.key)).not.toBeNull();
  },
);

/** A deleted blob can be stored again. */
export const putAfterDelete = defineBlobCheck(
  'delete',
  'bytes put again after their blob was deleted are stored again',
  async ({ store }) => {
    const bytes = randomContent(5_000);
    const { key } = await putBytes(store, bytes);
    await store.delete(key);
    expect((await putBytes(store, bytes)).key).toBe(key);
    expectSameBytes(await getBytes(store, key), bytes);
  },
);
