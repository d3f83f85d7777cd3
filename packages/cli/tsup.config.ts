import { defineConfig } from 'tsup';

export default defineConfig({
  // The command; it runs on Node only, so its dependencies stay imports.
  // `multicore` is for the bench (bench/systems/natter-multicore.mjs), not an export of the package.
  entry: { cli: 'src/cli.ts', multicore: 'src/multicore/index.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: true,
});
