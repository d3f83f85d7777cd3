/**
 * Engine parts of the natter client SDK, for tests, tools and alternative facades. Not a stable API: these
 * follow the SDK's internals from release to release. Apps use `ChatClient` from the root export.
 * @packageDocumentation
 */
export { Auth, type AuthOptions } from './auth.js';
export { delayWithRetryAfter } from './backoff.js';
export { applyMessageToChannel, ChatCache, type ChatCacheHooks } from './cache.js';
export { endpoints } from './client.js';
export {
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  parseRetryAfter,
  type RequestSender,
} from './connection.js';
export { Emitter, type Listener } from './emitter.js';
export { Outbox, type OutboxDeps } from './outbox.js';
export {
  chooseNode,
  type DiscoverFn,
  type DiscoveryHint,
  type DiscoveryOutcome,
  type FailoverAdvice,
  type PingFn,
  Placement,
  type PlacementDecision,
  type PlacementDeps,
} from './placement.js';
export { Realtime, type RealtimeDeps } from './presence.js';
export { IndexedDbKv } from './stores/indexeddb.js';
export { MemoryKv } from './stores/memory.js';
export { isQuotaError, ResilientStore } from './stores/resilient.js';
export { type SyncDeps, SyncEngine, type SyncStats } from './sync.js';
