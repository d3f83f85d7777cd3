import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const here = (p: string) => join(root, p);

/** The workspace packages the child needs, from source: the child runs the current code, no build. */
const SOURCES: Record<string, string> = {
  '@natter/protocol': here('packages/protocol/src/index.ts'),
  '@natter/server-core': here('packages/server-core/src/index.ts'),
  '@natter/storage-sqlite': here('packages/storage-adapters/sqlite/src/index.ts'),
};

let bundled: Promise<string> | undefined;

/** Bundles server-main.ts with esbuild into node_modules/.cache, once per test process. */
function bundle(): Promise<string> {
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    const outfile = here(`node_modules/.cache/natter-abuse/server-main-${process.pid}.mjs`);
    mkdirSync(dirname(outfile), { recursive: true });
    await esbuild.build({
      entryPoints: [here('tests/abuse/helpers/server-main.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      plugins: [
        {
          name: 'natter-sources',
          setup(build) {
            build.onResolve({ filter: /^@natter\// }, (args) => {
              const source = SOURCES[args.path];
              return source ? { path: source } : undefined;
            });
            build.onResolve({ filter: /^[^./]/ }, (args) =>
              args.path.startsWith('/') ? undefined : { path: args.path, external: true },
            );
          },
        },
      ],
    });
    return outfile;
  })();
  return bundled;
}

/** The server under attack, in its own process. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resident memory of the server process now, bytes (from /proc). */
  rss(): number;
  /** Open file descriptors of the server process now. */
  fds(): number;
  stop(): Promise<void>;
}

export const ABUSE_SECRET = 'abuse-secret-abuse-secret-abuse-secret-0123456789';

/** Starts the server as a child process on 127.0.0.1 and waits until it listens. */
export async function startServerProcess(): Promise<ServerProcess> {
  const main = await bundle();
  const dir = mkdtempSync(join(tmpdir(), 'natter-abuse-'));
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      NATTER_ABUSE_DATA: dir,
      NATTER_ABUSE_SECRET: ABUSE_SECRET,
      NATTER_ABUSE_PORT: '0',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('abuse server did not start within 20 s')), 20_000);
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`abuse server exited with ${code} before it was ready`));
    });
  });
  const pid = child.pid!;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    process: child,
    rss: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Removes this process's bundle (afterAll). */
export async function removeServerBundle(): Promise<void> {
  const file = await bundled?.catch(() => undefined);
  bundled = undefined;
  if (file) rmSync(file, { force: true });
}

/** The p-quantile of `values` (0 < p ≤ 1). */
export function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}
