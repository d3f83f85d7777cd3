import { defineConfig } from 'tsup';

export default defineConfig({
  // The command; it runs on Node only, so its dependencies stay imports.
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: true,
});
