import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import type { BlobRead, BlobStore, ByteRange } from '@natter/server-core';
import type { BlobFactory } from '../src/index.js';
import { blobTestBytes } from '../src/index.js';

/**
 * Deliberately broken stores: each wraps the (correct) filesystem store and breaks one guarantee, so
 * the self-test can show the suite catches it.
 */
type Breakage = (inner: BlobStore) => BlobStore;

/** A factory for `breakage(fs store)` over a fresh directory; reopening wraps a new store over it. */
export function brokenFactory(
  breakage: Breakage = (inner) => inner,
  { forgetOnReopen = false } = {},
): BlobFactory {
  return async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-blob-broken-'));
    return {
      store: breakage(createFsBlobStore({ root, fsync: false })),
      reopen: async () => {
        if (forgetOnReopen) fs.rmSync(root, { recursive: true, force: true });
        return breakage(createFsBlobStore({ root, fsync: false }));
      },
      cleanup: async () => fs.rmSync(root, { recursive: true, force: true }),
    };
  };
}

/** A copy of `inner` with some members replaced (methods bound to `inner`). */
function wrap(inner: BlobStore, parts: Partial<BlobStore>): BlobStore {
  return {
    manifest: inner.manifest,
    open: () => inner.open(),
    close: () => inner.close(),
    put: (source, options) => inner.put(source, options),
    get: (key, range) => inner.get(key, range),
    head: (key) => inner.head(key),
    delete: (key) => inner.delete(key),
    list: () => inner.list(),
    ...parts,
  };
}

/** Reads the whole source into memory before storing it, and whole blobs before answering a read. */
export const buffersWholeBlobs: Breakage = (inner) =>
  wrap(inner, {
    async put(source, options) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of source) chunks.push(chunk);
      const whole = Buffer.concat(chunks);
      return inner.put(blobTestBytes.chunksOf(whole, whole.byteLength || 1), options);
    },
    async get(key, range) {
      const read = await inner.get(key, range);
      if (!read) return null;
      const whole = await blobTestBytes.readAll(read.body);
      return { ...read, body: new Blob([whole]).stream() };
    },
  });

/** Stores whatever arrived when the source fails (a half-written blob becomes visible). */
export const keepsPartialBlobs: Breakage = (inner) =>
  wrap(inner, {
    async put(source, options) {
      const chunks: Uint8Array[] = [];
      try {
        for await (const chunk of source) chunks.push(chunk);
      } catch (error) {
        await inner.put(blobTestBytes.chunksOf(Buffer.concat(chunks)));
        throw error;
      }
      return inner.put(blobTestBytes.chunksOf(Buffer.concat(chunks)), options);
    },
  });

/** Treats a range's `end` as exclusive (the classic off-by-one) and ignores suffix ranges. */
export const sloppyRanges: Breakage = (inner) =>
  wrap(inner, {
    async get(key: string, range?: ByteRange): Promise<BlobRead | null> {
      if (range === undefined) return inner.get(key);
      if ('suffix' in range) return inner.get(key);
      return inner.get(key, range.end === undefined ? range : { start: range.start, end: range.end - 1 });
    },
  });

/** Rejects when deleting a blob that is not there. */
export const deleteNotIdempotent: Breakage = (inner) =>
  wrap(inner, {
    async delete(key) {
      if (!(await inner.head(key))) throw new Error(`no such blob ${key}`);
      await inner.delete(key);
    },
  });

/** Answers a fresh key per upload instead of the content address. */
export const randomKeys: Breakage = (inner) =>
  wrap(inner, {
    async put(source, options) {
      const info = await inner.put(source, options);
      return {
        ...info,
        key: `${info.key.slice(0, 56)}${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}`,
      };
    },
  });

/** Throws instead of answering null for a missing blob. */
export const throwsOnMissing: Breakage = (inner) =>
  wrap(inner, {
    async head(key) {
      const stat = await inner.head(key);
      if (!stat) throw new Error('not found');
      return stat;
    },
  });

/** Ignores the abort signal: a stalled upload hangs for ever, an aborted one is stored. */
export const ignoresAbort: Breakage = (inner) =>
  wrap(inner, {
    put: (source) => {
      // Give up after a while so the check sees a wrong outcome instead of timing out.
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('stalled')), 1_500),
      );
      return Promise.race([inner.put(source), timeout]);
    },
  });
