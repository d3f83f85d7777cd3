import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceEntry } from '../../../scripts/source-packages.js';
import type { NodeSpec } from './node-spec.js';
import type { StoreSpec } from './storage.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const here = (p: string) => join(root, p);

/** Sources of the workspace packages, as vitest.config.ts maps them: children run the current code. */
const SOURCES: Record<string, string> = {
  '@natter/protocol': here('packages/protocol/src/index.ts'),
  '@natter/server-core': here('packages/server-core/src/index.ts'),
  '@natter/storage-sqlite': here('packages/storage-adapters/sqlite/src/index.ts'),
  '@natter/storage-postgres': here('packages/storage-adapters/postgres/src/index.ts'),
  '@natter/broker-redis': here('packages/broker-redis/src/index.ts'),
  '@natter/broker-nats': here('packages/broker-nats/src/index.ts'),
  '@natter/registry-zookeeper': here('packages/registry-zookeeper/src/index.ts'),
};
const POSTGRES_SOURCE = here('packages/storage-adapters/postgres/src/index.ts');
const SHARDED_SOURCE = here('packages/storage-adapters/postgres-sharded/src/index.ts');

let bundled: Promise<string> | undefined;

/**
 * Bundles node-main.ts with esbuild into node_modules/.cache (so third-party imports resolve from the
 * workspace's node_modules), once per test process.
 */
export function bundleNodeMain(): Promise<string> {
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    const outfile = here(`node_modules/.cache/natter-cluster/node-main-${process.pid}.mjs`);
    mkdirSync(dirname(outfile), { recursive: true });
    const withPostgres = existsSync(POSTGRES_SOURCE) && process.env.NATTER_CLUSTER_STORE !== 'sqlite';
    const withSharded = withPostgres && existsSync(SHARDED_SOURCE);
    await esbuild.build({
      entryPoints: [here('tests/cluster/helpers/node-main.ts')],
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
            build.onResolve({ filter: /^natter-test:postgres$/ }, () =>
              withPostgres ? { path: POSTGRES_SOURCE } : { path: 'postgres', namespace: 'natter-stub' },
            );
            build.onResolve({ filter: /^natter-test:postgres-sharded$/ }, () =>
              withSharded ? { path: SHARDED_SOURCE } : { path: 'sharded', namespace: 'natter-stub' },
            );
            build.onLoad({ filter: /.*/, namespace: 'natter-stub' }, (args) => ({
              contents:
                args.path === 'sharded'
                  ? 'export const createShardedPostgresStorage = undefined;'
                  : 'export const createPostgresStorage = undefined;',
              loader: 'js',
            }));
            build.onResolve({ filter: /^@natter\// }, (args) => {
              // The packages above, then any other workspace entry (the sharded store's imports).
              const source = SOURCES[args.path] ?? sourceEntry(args.path);
              return source ? { path: source } : undefined;
            });
            // Everything else that is not a relative import stays external (native modules, npm packages).
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

/** A chat node running in its own process. */
export interface ChildNode {
  readonly nodeId: string;
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** SIGKILL: no drain, no deregistration, no presence cleanup. */
  kill9(): Promise<void>;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** Asks the node to drain (SIGUSR2). */
  drain(): void;
}

const children = new Set<ChildProcess>();

/** Starts a chat node as a child process and waits until it listens. */
export async function startChildNode(spec: NodeSpec, store: StoreSpec, port = 0): Promise<ChildNode> {
  const main = await bundleNodeMain();
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, NATTER_NODE_SPEC: JSON.stringify({ ...spec, store, port }) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const ready = await new Promise<{ port: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node ${spec.nodeId} did not start within 20 s`)),
      20_000,
    );
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { port: number });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node ${spec.nodeId} exited with ${code} before it was ready`));
    });
  });
  const url = `http://127.0.0.1:${ready.port}`;
  return {
    nodeId: spec.nodeId,
    url,
    port: ready.port,
    process: child,
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
    drain() {
      child.kill('SIGUSR2');
    },
  };
}

/** Deletes this process's bundle of node-main (afterAll). */
export async function removeNodeBundle(): Promise<void> {
  const outfile = await bundled?.catch(() => undefined);
  if (outfile) rmSync(outfile, { force: true });
  bundled = undefined;
}

/** Kills every child node this process started (for afterAll, also after failures). */
export async function killAllChildNodes(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
