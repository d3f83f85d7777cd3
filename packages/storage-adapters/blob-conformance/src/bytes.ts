import { createHash, randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BlobInfo, BlobStat, BlobStore } from '@natter/server-core';

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `n` random bytes: every check's content is unique, so checks never see each other's blobs. */
export function randomContent(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

/** Yields copies of `bytes` in chunks (copies: a store may keep a chunk until it has uploaded it). */
export async function* chunksOf(bytes: Uint8Array, chunkSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
    yield bytes.slice(offset, offset + chunkSize);
  }
}

/** Stores `bytes` through `put`. */
export function putBytes(store: BlobStore, bytes: Uint8Array): Promise<BlobInfo> {
  return store.put(chunksOf(bytes));
}

/** Reads a whole stream into one array. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    parts.push(chunk);
    size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Reads a whole blob, or `null` when it is missing. */
export async function getBytes(store: BlobStore, key: string): Promise<Uint8Array | null> {
  const read = await store.get(key);
  return read ? readAll(read.body) : null;
}

/** Every blob `list()` yields. */
export async function listAll(store: BlobStore): Promise<BlobStat[]> {
  const all: BlobStat[] = [];
  for await (const stat of store.list()) all.push(stat);
  return all;
}

/** A source that yields `bytes` up to `failAfter` bytes, then throws `error`. */
export async function* failingSource(
  bytes: Uint8Array,
  failAfter: number,
  error: Error,
  chunkSize = 64 * 1024,
): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < failAfter; offset += chunkSize) {
    yield bytes.slice(offset, Math.min(offset + chunkSize, failAfter));
  }
  throw error;
}

/** A source that yields `bytes` up to `stallAfter` bytes and then waits forever (until cancelled). */
export async function* stallingSource(bytes: Uint8Array, stallAfter: number): AsyncGenerator<Uint8Array> {
  yield bytes.slice(0, stallAfter);
  await new Promise<never>(() => undefined);
}

/**
 * A large generated source: `total` bytes in fresh 256 KiB chunks (each a copy of one random block
 * with its index stamped in, so content differs per chunk and per call), hashed as they are yielded.
 * `sample` is called before each chunk so memory can be measured while the store consumes it.
 */
export function generatedSource(
  total: number,
  sample: () => void = () => undefined,
): { source: AsyncGenerator<Uint8Array>; digest: () => string } {
  const chunkSize = 256 * 1024;
  const block = randomBytes(chunkSize);
  const hash = createHash('sha256');
  async function* source(): AsyncGenerator<Uint8Array> {
    let index = 0;
    for (let offset = 0; offset < total; offset += chunkSize) {
      sample();
      const chunk = new Uint8Array(Math.min(chunkSize, total - offset));
      chunk.set(block.subarray(0, chunk.byteLength));
      new DataView(chunk.buffer).setUint32(0, index++);
      hash.update(chunk);
      yield chunk;
    }
  }
  return { source: source(), digest: () => hash.digest('hex') };
}

/**
 * V8's `gc()`, exposed at run time. Streaming allocates a fresh chunk per read and V8 collects
 * off-heap garbage lazily, so without a collection now and then a correct store's RSS would grow
 * like a buffering one's; with one, only memory the store actually holds remains.
 */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return gc;
}

/**
 * Tracks the process's peak RSS above a baseline. `sample()` is called between chunks (the event loop
 * may be busy hashing, so a timer alone would miss peaks); every 4 MiB worth of samples it first
 * collects garbage, so the peak reflects what is retained, not what awaits collection.
 */
export function rssTracker(): { sample: () => void; stop: () => number } {
  const gc = collector();
  gc();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  let calls = 0;
  const measure = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(measure, 5);
  return {
    sample: () => {
      if (++calls % 16 === 0) gc();
      measure();
    },
    stop: () => {
      clearInterval(timer);
      measure();
      return peak - baseline;
    },
  };
}

/**
 * Asserts two byte arrays are equal. Compares with `Buffer.equals` (vitest's deep equality walks large
 * typed arrays element by element, which takes seconds per megabyte) and reports sizes and hashes.
 */
export function expectSameBytes(
  actual: Uint8Array | null | undefined,
  expected: Uint8Array,
  what = 'bytes',
): void {
  const same =
    actual != null &&
    Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(
      Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
    );
  if (same) return;
  const describe = (bytes: Uint8Array | null | undefined) =>
    bytes == null ? String(bytes) : `${bytes.byteLength} bytes, sha256 ${sha256Hex(bytes)}`;
  throw new AssertionError(`${what} differ: got ${describe(actual)}, expected ${describe(expected)}`);
}

/** An assertion failure (named like chai's, so runners and the self-test treat it as one). */
class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** Awaits `promise`; a rejection becomes an assertion failure naming `what` (the store broke a promise). */
export async function mustResolve<T>(promise: Promise<T>, what: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new AssertionError(`${what} rejected instead of resolving: ${String(error)}`);
  }
}
