import type { FileHandle } from 'node:fs/promises';

/** Bytes read per pull: large enough for throughput, small enough that memory stays flat. */
const CHUNK = 256 * 1024;

/**
 * A web stream of bytes `start..end` (inclusive) of an open file, read on demand (one chunk per pull,
 * so a slow reader never makes the file buffer up). Closes the handle at the end, on error and on cancel.
 */
export function fileStream(handle: FileHandle, start: number, end: number): ReadableStream<Uint8Array> {
  let position = start;
  let closed = false;
  if (end < start) {
    // Nothing to read (an empty blob): release the file now, not when a consumer pulls.
    void handle.close().catch(() => undefined);
    closed = true;
  }
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => undefined);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const remaining = end - position + 1;
        if (remaining <= 0) {
          await close();
          controller.close();
          return;
        }
        try {
          const buffer = new Uint8Array(Math.min(CHUNK, remaining));
          const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
          if (bytesRead === 0) throw new Error('blob file ended before its recorded size');
          position += bytesRead;
          controller.enqueue(bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead));
        } catch (error) {
          await close();
          controller.error(error);
        }
      },
      cancel: close,
    },
    // Pull only when the consumer has taken the previous chunk.
    { highWaterMark: 0 },
  );
}
