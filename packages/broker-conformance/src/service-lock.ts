import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of {@link acquireServiceLock}. */
export interface ServiceLockOptions {
  /** How long to wait for the lock before rejecting, ms. @default 600000 */
  timeoutMs?: number;
  /** Directory holding the lock directories. @default `<os tmpdir>/natter-locks` */
  dir?: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * A lock shared by the test processes of one machine, for tests that disrupt a shared service (restarting
 * Redis) and the tests that would be hurt by it: whoever holds the lock for `name` runs alone. vitest runs
 * test files in parallel processes; `mkdir` is atomic, so the lock needs no server. A lock whose owner
 * process died is taken over. Resolves with the release function.
 */
export async function acquireServiceLock(
  name: string,
  options: ServiceLockOptions = {},
): Promise<() => Promise<void>> {
  const base = options.dir ?? join(tmpdir(), 'natter-locks');
  const path = join(base, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`);
  const owner = join(path, 'owner');
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  await mkdir(base, { recursive: true });
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(owner, String(process.pid));
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(path, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(await readFile(owner, 'utf8').catch(() => 'NaN'));
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    // No owner file for seconds means its creator died between mkdir and writeFile.
    if ((Number.isInteger(pid) && pid > 0 && !alive(pid)) || (!Number.isInteger(pid) && age > 5_000)) {
      await rm(path, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`service lock "${name}" still held by process ${pid}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
