import { defineConfig } from 'tsup';

export default defineConfig({
  // `postgres` is the shared metadata store for clusters: only it loads `pg`.
  entry: { index: 'src/index.ts', postgres: 'src/postgres.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
