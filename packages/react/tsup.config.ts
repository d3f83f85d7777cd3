import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Runs wherever React runs (browsers, React Native, SSR): no Node built-ins may slip in.
  platform: 'neutral',
  // React is the app's own copy (a second one breaks hooks); the SDK is a dependency the app's bundler resolves.
  external: ['react', 'react-dom', 'react/jsx-runtime', '@natter/client'],
});
