/**
 * natter server core: create a chat node (`createNatterServer`), and the ports that storage, broker,
 * presence, push and authentication adapters implement. Engine parts (services, hub, sessions, transport)
 * are in `@natter/server-core/internals`, which is not a stable API.
 * @packageDocumentation
 */
export { ErrorCode, isNatterError, NatterError } from '@natter/protocol';
export {
  type ClaimNames,
  createJwtAuthenticator,
  type JwtAuthenticatorOptions,
  userIdFromSubject,
} from './accounts/jwt-authenticator.js';
export type {
  BeforeSend,
  BeforeSendContext,
  BeforeSendVerdict,
  ModerationOptions,
} from './chat/before-send.js';
export type { DiscoveryOptions } from './cluster/discovery-service.js';
export type { ClusterOptions, NatterServerOptions, TokenOptions } from './config.js';
export { listeningHosts } from './http/host-allowlist.js';
export { createLogger, type Logger, silentLogger } from './observability/logger.js';
export { createMetrics, type NatterMetrics } from './observability/metrics.js';
export * from './ports/index.js';
export { MemoryPresenceStore } from './presence/memory-presence-store.js';
export type { PresenceOptions } from './presence/presence-service.js';
export { createNatterServer, type NatterServer } from './server.js';
export type { ServerApiKey, ServerApiOptions } from './server-api/api-keys.js';
export { defineStorage, type OpenedStorage, type StorageDefinition } from './storage/define-storage.js';
export { checkStorageManifest } from './storage/manifest.js';
export { type PageRange, pageOfSorted, pageRange } from './storage/page-range.js';
