import { createHash } from 'node:crypto';
import { tooLarge } from './errors.js';

/** A source wrapped by {@link meteredSource}: its bytes counted and hashed as they pass. */
export interface MeteredSource extends AsyncIterable<Uint8Array> {
  /** Bytes passed so far. */
  readonly bytes: number;
  /** Hex SHA-256 of everything passed; call once the source is exhausted. */
  digest(): string;
}

/**
 * Counts and hashes `source` as it is read, and throws `NATTER_MEDIA_TOO_LARGE` on the first chunk
 * that would take it past `limit`, without passing that chunk on: downstream never sees a byte beyond
 * the limit, and the source is cancelled (its `return()`), so the rest is never read.
 */
export function meteredSource(source: AsyncIterable<Uint8Array>, limit: number): MeteredSource {
  const hash = createHash('sha256');
  let bytes = 0;
  return {
    get bytes() {
      return bytes;
    },
    digest: () => hash.digest('hex'),
    async *[Symbol.asyncIterator]() {
      for await (const chunk of source) {
        if (bytes + chunk.byteLength > limit) throw tooLarge(limit);
        bytes += chunk.byteLength;
        hash.update(chunk);
        yield chunk;
      }
    },
  };
}

/**
 * Reads the first `n` bytes of `source` (fewer when it is shorter) for sniffing, and gives back a
 * source that yields those bytes and then the rest, so nothing read for sniffing is lost; `cancel`
 * stops the source when the rest is not wanted.
 */
export async function peek(
  source: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; all: AsyncIterable<Uint8Array>; cancel: () => Promise<void> }> {
  const iterator = source[Symbol.asyncIterator]();
  const buffered: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    buffered.push(next.value);
    length += next.value.byteLength;
  }
  const head = Buffer.concat(buffered).subarray(0, n);
  async function* all(): AsyncGenerator<Uint8Array> {
    try {
      yield* buffered;
      if (done) return;
      while (true) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      // Cancel the source when the consumer stops early (a refused upload).
      if (!done) await iterator.return?.(undefined);
    }
  }
  const cancel = async () => {
    if (done) return;
    done = true;
    await iterator.return?.(undefined);
  };
  return { head: new Uint8Array(head), all: { [Symbol.asyncIterator]: all }, cancel };
}
