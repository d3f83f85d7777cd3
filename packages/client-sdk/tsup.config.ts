import { defineConfig } from 'tsup';

export default defineConfig({
  // The isomorphic core, the LevelDB store for Node (so browser bundles never see `level`), and internals.
  entry: { index: 'src/index.ts', level: 'src/level.ts', internals: 'src/internals.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // No Node built-ins in the core: `neutral` makes any accidental `node:` import fail the build.
  platform: 'neutral',
  // Dependencies stay imports; the app's bundler resolves `isomorphic-ws` to the global WebSocket in browsers.
  external: ['@natter/protocol', 'isomorphic-ws', 'ws', 'level', 'valibot'],
});
