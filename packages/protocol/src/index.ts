/**
 * natter wire protocol: frames, their validation, the two codecs, error and close codes, and limits.
 * Shared by the server core and the client SDK; docs/protocol.md specifies the same in prose.
 * @packageDocumentation
 */
export * from './close-codes.js';
export * from './codec.js';
export * from './error-codes.js';
export * from './frames.js';
export * from './http/discovery.js';
export * from './ids.js';
export * from './limits.js';
export type * from './model.js';
export * from './parse.js';
export * from './version.js';
