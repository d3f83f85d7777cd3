/**
 * natter's filesystem blob store: content-addressed by SHA-256, atomic writes, ranged reads.
 * @packageDocumentation
 */
export { createFsBlobStore, type FsBlobStoreOptions } from './fs-blob-store.js';
