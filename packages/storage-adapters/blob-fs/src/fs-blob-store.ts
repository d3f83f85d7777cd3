import { createHash, randomUUID } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import {
  abortableSource,
  BLOB_CONTRACT_VERSION,
  BlobError,
  BlobErrorCode,
  type BlobInfo,
  type BlobRead,
  type BlobStat,
  type BlobStore,
  type BlobStoreManifest,
  type ByteRange,
  isBlobKey,
  type PutOptions,
  resolveByteRange,
} from '@natter/server-core';
import { fileStream } from './file-stream.js';
import { fsyncDir, syncCreatedDirs } from './fsync.js';

/** Options of {@link createFsBlobStore}. */
export interface FsBlobStoreOptions {
  /** Directory holding the blobs; created when missing. The reference server uses `NATTER_DATA_DIR/media`. */
  root: string;
  /**
   * Flush each blob's bytes and its directory entry to disk before `put` resolves, so a stored blob
   * survives power loss. Off only for throwaway stores (tests, benches).
   * @default true
   */
  fsync?: boolean;
}

/** Temp files of writes in progress; swept on `open()`, since a crash leaves them behind. */
const TEMP_DIR = '.tmp';

const MANIFEST: BlobStoreManifest = {
  name: 'fs',
  contractVersion: BLOB_CONTRACT_VERSION,
  // One process owns the directory: `open()` sweeps temp files, which would break another process's
  // writes in progress.
  capabilities: { presign: false, persistent: true, multiProcess: false },
};

/**
 * A blob store on the local filesystem. Each blob is one file named by its SHA-256, fanned out over
 * two directory levels (`ab/cd/abcd…`) so no directory grows past a few thousand entries. A write goes
 * to a temp file under `root/.tmp` (same filesystem), is fsynced, renamed onto its final name and the
 * directory fsynced: a reader sees the whole blob or none of it, also after a crash.
 */
export function createFsBlobStore(options: FsBlobStoreOptions): BlobStore {
  const root = path.resolve(options.root);
  const tempDir = path.join(root, TEMP_DIR);
  const durable = options.fsync ?? true;
  let state: 'new' | 'open' | 'closed' = 'new';

  const assertOpen = () => {
    if (state !== 'open') throw new BlobError(BlobErrorCode.CLOSED, 'the blob store is not open');
  };
  const pathOf = (key: string) => path.join(root, key.slice(0, 2), key.slice(2, 4), key);
  const unavailable = (error: unknown) =>
    new BlobError(BlobErrorCode.UNAVAILABLE, `filesystem blob store failed: ${String(error)}`, {
      cause: error,
    });

  async function put(source: AsyncIterable<Uint8Array>, putOptions: PutOptions = {}): Promise<BlobInfo> {
    assertOpen();
    const { signal } = putOptions;
    if (signal?.aborted) throw new BlobError(BlobErrorCode.ABORTED, 'put aborted');
    const temp = path.join(tempDir, `${randomUUID()}.tmp`);
    const handle = await fs.open(temp, 'wx', 0o644).catch((error: unknown) => {
      throw unavailable(error);
    });
    let closed = false;
    try {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of abortableSource(source, signal)) {
        hash.update(chunk);
        size += chunk.byteLength;
        await writeAll(handle, chunk);
      }
      if (durable) await handle.sync();
      await handle.close();
      closed = true;
      const key = hash.digest('hex');
      await publish(temp, key);
      return { key, size, sha256: key };
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  /** Moves a finished temp file onto its content address (or drops it when that blob already exists). */
  async function publish(temp: string, key: string): Promise<void> {
    const dest = pathOf(key);
    try {
      const created = await fs.mkdir(path.dirname(dest), { recursive: true });
      if (durable && created) await syncCreatedDirs(path.dirname(dest), created);
      const existing = await fs.stat(dest).catch(() => null);
      if (existing) {
        // Same bytes already stored: keep the old file (open readers stay valid) and refresh its time,
        // so an orphan sweep's grace period starts again for this upload.
        await fs.rm(temp, { force: true });
        const now = new Date();
        await fs.utimes(dest, now, now);
        return;
      }
      await fs.rename(temp, dest);
      if (durable) await fsyncDir(path.dirname(dest));
    } catch (error) {
      throw unavailable(error);
    }
  }

  async function statOf(key: string): Promise<BlobStat | null> {
    if (!isBlobKey(key)) return null;
    try {
      const stat = await fs.stat(pathOf(key));
      return { key, size: stat.size, sha256: key, modifiedAt: stat.mtimeMs };
    } catch (error) {
      if (isMissing(error)) return null;
      throw unavailable(error);
    }
  }

  return {
    manifest: MANIFEST,

    async open() {
      if (state === 'open') return;
      try {
        await fs.mkdir(root, { recursive: true });
        // Writes that a crash interrupted never reached their final name: drop them.
        await fs.rm(tempDir, { recursive: true, force: true });
        await fs.mkdir(tempDir);
      } catch (error) {
        throw unavailable(error);
      }
      state = 'open';
    },

    async close() {
      state = 'closed';
    },

    put,

    async get(key: string, range?: ByteRange): Promise<BlobRead | null> {
      assertOpen();
      if (!isBlobKey(key)) return null;
      let handle: fs.FileHandle;
      try {
        // Opened now, so a delete during the read does not cut it (POSIX keeps the inode alive).
        handle = await fs.open(pathOf(key), constants.O_RDONLY);
      } catch (error) {
        if (isMissing(error)) return null;
        throw unavailable(error);
      }
      try {
        const { size } = await handle.stat();
        const { start, end } = resolveByteRange(range, size);
        return { body: fileStream(handle, start, end), size, start, end };
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
    },

    async head(key: string) {
      assertOpen();
      return statOf(key);
    },

    async delete(key: string) {
      assertOpen();
      if (!isBlobKey(key)) return;
      await fs.rm(pathOf(key), { force: true }).catch((error: unknown) => {
        throw unavailable(error);
      });
    },

    async *list(): AsyncIterable<BlobStat> {
      assertOpen();
      for (const first of await fanoutDirs(root)) {
        for (const second of await fanoutDirs(path.join(root, first))) {
          const dir = path.join(root, first, second);
          for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
            if (!isBlobKey(name)) continue;
            const stat = await statOf(name);
            if (stat) yield stat;
          }
        }
      }
    },
  };
}

/** The two-hex-digit subdirectories of `dir` (skipping `.tmp` and anything else). */
async function fanoutDirs(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory() && /^[0-9a-f]{2}$/.test(entry.name))
    .map((e) => e.name);
}

async function writeAll(handle: fs.FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
