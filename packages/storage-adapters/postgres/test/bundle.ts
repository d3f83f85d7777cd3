import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFromSource } from '../../../../scripts/source-packages.js';

/** This package's directory. */
export const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Child processes cannot import TypeScript, so the adapter is bundled from source for them, into
 * the package's node_modules so the bundle's bare imports (`pg`) resolve. Returns the bundle's path.
 */
export function bundleAdapter(name: string): Promise<string> {
  return bundleFromSource({
    entry: path.join(packageDir, 'src/index.ts'),
    outDir: path.join(packageDir, 'node_modules/.cache', name),
    name: 'adapter',
  });
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
