import { defineConfig } from 'tsup';

export default defineConfig({
  // `verify` is the webhook receiver's entry: signature checks only, none of the gateway's dependencies.
  // `postgres` is the shared queue for clusters: only it loads `pg`.
  entry: { index: 'src/index.ts', verify: 'src/verify.ts', postgres: 'src/postgres.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
