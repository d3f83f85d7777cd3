/** The ports of server-core: everything it needs from outside, as small typed interfaces. */
export type * from './authenticator.js';
export * from './blob.js';
export * from './broker.js';
export type * from './connection.js';
export type * from './delivery.js';
export type * from './events.js';
export * from './lifecycle.js';
export type * from './media.js';
export type * from './moderation.js';
export type * from './presence.js';
export type * from './push.js';
export * from './registry.js';
export * from './storage.js';
