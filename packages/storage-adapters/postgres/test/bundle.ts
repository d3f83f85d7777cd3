import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

/** This package's directory. */
export const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(packageDir, '../../..');

/**
 * Child processes cannot import TypeScript, so the adapter is bundled from source for them, into
 * the package's node_modules so the bundle's bare imports (`pg`) resolve. Returns the bundle's path.
 */
export async function bundleAdapter(name: string): Promise<string> {
  const outDir = path.join(packageDir, 'node_modules/.cache', name);
  const sources: Record<string, string> = {
    '@natter/protocol': path.join(repoRoot, 'packages/protocol/src/index.ts'),
    '@natter/server-core': path.join(repoRoot, 'packages/server-core/src/index.ts'),
  };
  await build({
    entry: { adapter: path.join(packageDir, 'src/index.ts') },
    outDir,
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
          // Sibling packages from source (their dist may be missing or stale); everything else external.
          b.onResolve({ filter: /^@natter\// }, (args) => ({ path: sources[args.path] ?? args.path }));
          b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
        },
      },
    ],
  });
  return path.join(outDir, 'adapter.js');
}

/** Removes a bundle made by {@link bundleAdapter}, and the cache directories once they are empty. */
export function removeBundle(bundle: string): void {
  fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
  for (const emptied of [
    path.join(packageDir, 'node_modules/.cache'),
    path.join(packageDir, 'node_modules'),
  ]) {
    if (fs.existsSync(emptied) && fs.readdirSync(emptied).length === 0) fs.rmdirSync(emptied);
  }
}
