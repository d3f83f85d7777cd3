import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Where each `@natter/*` entry point's TypeScript source lives, relative to the repository root. Tools that
 * run the code from source use it: the vitest aliases (tests need no build first) and the bundles the
 * crash tests build for their child processes. Sub-path entries come before their package, because
 * aliases match by prefix.
 */
export const SOURCE_ENTRIES: Readonly<Record<string, string>> = {
  '@natter/protocol/openapi': 'packages/protocol/src/openapi.ts',
  '@natter/protocol/signature': 'packages/protocol/src/signature.ts',
  '@natter/protocol': 'packages/protocol/src/index.ts',
  '@natter/server-core/internals': 'packages/server-core/src/internals.ts',
  '@natter/server-core': 'packages/server-core/src/index.ts',
  '@natter/storage-memory': 'packages/storage-adapters/memory/src/index.ts',
  '@natter/storage-sqlite': 'packages/storage-adapters/sqlite/src/index.ts',
  '@natter/storage-level': 'packages/storage-adapters/level/src/index.ts',
  '@natter/storage-postgres/internals': 'packages/storage-adapters/postgres/src/internals.ts',
  '@natter/storage-postgres': 'packages/storage-adapters/postgres/src/index.ts',
  '@natter/storage-postgres-sharded': 'packages/storage-adapters/postgres-sharded/src/index.ts',
  '@natter/storage-conformance': 'packages/storage-adapters/conformance/src/index.ts',
  '@natter/client/level': 'packages/client-sdk/src/level.ts',
  '@natter/client/internals': 'packages/client-sdk/src/internals.ts',
  '@natter/client': 'packages/client-sdk/src/index.ts',
  '@natter/push/verify': 'packages/push/src/verify.ts',
  '@natter/push/postgres': 'packages/push/src/postgres.ts',
  '@natter/push': 'packages/push/src/index.ts',
  '@natter/server-client': 'packages/server-client/src/index.ts',
  '@natter/webhooks/postgres': 'packages/webhooks/src/postgres.ts',
  '@natter/media/postgres': 'packages/media/src/postgres.ts',
  '@natter/webhooks': 'packages/webhooks/src/index.ts',
  '@natter/broker-conformance': 'packages/broker-conformance/src/index.ts',
  '@natter/broker-redis': 'packages/broker-redis/src/index.ts',
  '@natter/broker-nats': 'packages/broker-nats/src/index.ts',
  '@natter/registry-zookeeper': 'packages/registry-zookeeper/src/index.ts',
  '@natter/e2ee': 'packages/e2ee/src/index.ts',
  '@natter/blob-conformance': 'packages/storage-adapters/blob-conformance/src/index.ts',
  '@natter/blob-fs': 'packages/storage-adapters/blob-fs/src/index.ts',
  '@natter/blob-s3': 'packages/storage-adapters/blob-s3/src/index.ts',
  '@natter/media': 'packages/media/src/index.ts',
  '@natter/react': 'packages/react/src/index.ts',
};

/** The absolute source path of an `@natter/*` import specifier, if it names one of the entries. */
export function sourceEntry(specifier: string): string | undefined {
  const relative = SOURCE_ENTRIES[specifier];
  return relative === undefined ? undefined : path.join(REPO_ROOT, relative);
}

/**
 * Bundles a TypeScript entry for a child process (which cannot import TypeScript): `@natter/*` imports from
 * source, every other bare import left external. `outDir` should sit inside the calling package's
 * `node_modules` so the bundle's bare imports (`pg`, `better-sqlite3`) resolve. Returns the bundle's path.
 */
export async function bundleFromSource(options: {
  entry: string;
  outDir: string;
  name?: string;
}): Promise<string> {
  const { build } = await import('tsup');
  const name = options.name ?? 'bundle';
  await build({
    entry: { [name]: options.entry },
    outDir: options.outDir,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    config: false,
    dts: false,
    sourcemap: false,
    silent: true,
    esbuildPlugins: [
      {
        name: 'natter-from-source',
        setup(b) {
          b.onResolve({ filter: /^@natter\// }, (args) => {
            const source = sourceEntry(args.path);
            if (!source)
              throw new Error(`no source entry for ${args.path}: add it to scripts/source-packages.ts`);
            return { path: source };
          });
          b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
        },
      },
    ],
  });
  return path.join(options.outDir, `${name}.js`);
}
