import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Writes `source` to `file` chunk by chunk (memory stays flat whatever the size). Images and videos
 * are spooled because their decoders need random access; everything else streams straight through.
 */
export async function spoolToFile(source: AsyncIterable<Uint8Array>, file: string): Promise<void> {
  const handle = await fs.open(file, 'wx', 0o600);
  try {
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    }
  } finally {
    await handle.close();
  }
}

/** A file's bytes as a source for `BlobStore.put`. */
export function fileSource(file: string): AsyncIterable<Uint8Array> {
  return createReadStream(file, { highWaterMark: 256 * 1024 });
}

/** A fresh working directory for one upload under `tempDir`; remove it with `fs.rm(dir, { recursive: true })`. */
export async function workDir(tempDir: string): Promise<string> {
  await fs.mkdir(tempDir, { recursive: true, mode: 0o700 });
  return fs.mkdtemp(path.join(tempDir, 'upload-'));
}
