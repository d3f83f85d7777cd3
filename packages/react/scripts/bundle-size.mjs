#!/usr/bin/env node
// Bundle size of @natter/react as an app ships it: the entry bundled and minified by esbuild, gzipped,
// React left out (the app has it anyway). Printed twice: the kit alone (with @natter/client left out too)
// and the kit with the client SDK (everything natter adds to a React app). Reads src/, so no build first.
// Usage: npm run figures -w @natter/react
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const entry = new URL('../src/index.ts', import.meta.url).pathname;
const react = ['react', 'react-dom', 'react/jsx-runtime'];

/** Bundles `contents` (an entry module) with everything but `external`; returns minified and gzipped bytes. */
async function size(contents, external) {
  const result = await build({
    stdin: { contents, resolveDir: new URL('.', import.meta.url).pathname, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    write: false,
    external,
    // The SDK's source entries, so the figure needs no build of the packages either.
    alias: {
      '@natter/client': new URL('../../client-sdk/src/index.ts', import.meta.url).pathname,
      '@natter/protocol': new URL('../../protocol/src/index.ts', import.meta.url).pathname,
    },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
// The kit imports only types from the SDK; an app adds the client itself, so the second figure imports it.
const kit = await size(`export * from ${JSON.stringify(entry)};`, [...react, '@natter/client']);
const withClient = await size(
  `export * from ${JSON.stringify(entry)}; export { ChatClient, IndexedDbStore } from '@natter/client';`,
  [...react, 'isomorphic-ws', 'ws'],
);
console.log(
  `figure: @natter/react alone (no React, no @natter/client): ${kb(kit.min)} min, ${kb(kit.gzip)} min+gzip`,
);
console.log(
  `figure: @natter/react with @natter/client (no React): ${kb(withClient.min)} min, ${kb(withClient.gzip)} min+gzip`,
);
