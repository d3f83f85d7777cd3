/**
 * natter wire protocol: every shape on the wire (WebSocket frames, sync-log entries, HTTP bodies and routes)
 * as valibot schemas with the TypeScript types derived from them, the two codecs, the one list of error
 * codes, close codes and limits. Shared by the server core and the client SDK; docs/protocol.md and
 * docs/api.md describe the same in prose, with tables generated from this package.
 * @packageDocumentation
 */
export * from './close-codes.js';
export * from './codec.js';
export * from './errors.js';
export * from './events/events.js';
export * from './frames/client.js';
export * from './frames/requests.js';
export * from './frames/server.js';
export * from './http/bodies.js';
export * from './http/discovery.js';
export * from './http/e2ee.js';
export * from './http/media.js';
export * from './http/moderation.js';
export * from './http/routes.js';
export * from './http/server-api.js';
export * from './ids.js';
export * from './limits.js';
export * from './mls-header.js';
export * from './parse.js';
export * from './schemas/emoji.js';
export * from './schemas/entries.js';
export * from './schemas/media.js';
export * from './schemas/model.js';
export * from './schemas/primitives.js';
export * from './version.js';
