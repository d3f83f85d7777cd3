import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = (p: string) => join(root, p);

/** The workspace packages the child needs, from source (as vitest.config.ts maps them). */
const SOURCES: Record<string, string> = {
  '@natter/protocol': here('packages/protocol/src/index.ts'),
  '@natter/server-core': here('packages/server-core/src/index.ts'),
  '@natter/storage-sqlite': here('packages/storage-adapters/sqlite/src/index.ts'),
};

let bundled: Promise<string> | undefined;

/**
 * Bundles server-main.ts with esbuild into node_modules/.cache (so its third-party imports resolve from the
 * workspace), once per test process: the child runs the current sources, no build needed.
 */
export function bundleServer(): Promise<string> {
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    const outfile = here(`node_modules/.cache/natter-chaos/server-main-${process.pid}.mjs`);
    mkdirSync(dirname(outfile), { recursive: true });
    await esbuild.build({
      entryPoints: [here('tests/chaos/server-main.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      // ESM output calling require() in bundled CJS code needs a real require.
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
            build.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
          },
        },
      ],
    });
    return outfile;
  })();
  return bundled;
}

/** Removes this process's bundle. */
export async function removeBundle(): Promise<void> {
  if (!bundled) return;
  const file = await bundled.catch(() => undefined);
  bundled = undefined;
  if (!file) return;
  rmSync(file, { force: true });
  if (readdirSync(dirname(file)).length === 0) rmSync(dirname(file), { recursive: true, force: true });
}

/** A port that was free a moment ago (the child binds it; SO_REUSEADDR lets a restart bind it again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** A natter server process. */
export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Time from spawn until `/healthz` answered 200, ms. */
  readonly startupMs: number;
  /** `kill -9`: no drain, no close, no flush. */
  kill9(): Promise<void>;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Spawns the server on `port` and `dataDir` and waits until `/healthz` answers 200. */
export async function startServerProcess(options: {
  port: number;
  dataDir: string;
  secret: string;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const bundle = await bundleServer();
  const url = `http://127.0.0.1:${options.port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [bundle], {
    env: {
      ...process.env,
      NATTER_CHAOS_PORT: String(options.port),
      NATTER_CHAOS_DATA: options.dataDir,
      NATTER_CHAOS_SECRET: options.secret,
    },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = started + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (gone) throw new Error(`the server exited with ${child.exitCode} before it was healthy`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the server was not healthy in time');
    }
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const startupMs = performance.now() - started;
  return {
    url,
    child,
    startupMs,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Kills every server process this test process started (for afterAll, also after failures). */
export async function killAllServerProcesses(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
