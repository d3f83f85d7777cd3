import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * fsyncs a directory so a rename or a new entry in it survives power loss. POSIX only: Windows cannot
 * open a directory for syncing, and NTFS journals the rename itself, so there it is a no-op.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * After `mkdir(deepest, { recursive: true })` answered `firstCreated`, fsyncs the parent of every new
 * directory, from `deepest`'s parent up to `firstCreated`'s, so each new entry is durable.
 */
export async function syncCreatedDirs(deepest: string, firstCreated: string): Promise<void> {
  let dir = path.resolve(deepest);
  const top = path.resolve(firstCreated);
  while (true) {
    const parent = path.dirname(dir);
    await fsyncDir(parent);
    if (dir === top || parent === dir) return;
    dir = parent;
  }
}
