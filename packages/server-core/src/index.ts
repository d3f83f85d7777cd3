/**
 * natter server core: the transport-agnostic chat engine, its HTTP API, the `ws` transport adapter,
 * and the ports that storage, presence and authentication adapters implement.
 * @packageDocumentation
 */
export { ErrorCode, isNatterError, NatterError } from '@natter/protocol';
export { type IssuedTokens, type RefreshedTokens, TokenService } from './auth/token-service.js';
export {
  ChatService,
  type HistoryRequest,
  type SendInput,
  type SendResult,
  type SyncPage,
} from './chat/chat-service.js';
export type { Delivery, DeliveryOrigin, DeliverySink } from './chat/delivery.js';
export { type LiveEndpoint, LocalHub } from './chat/local-hub.js';
export { type PageRange, pageRange } from './chat/page-range.js';
export { ClusterSink, userTopic } from './cluster/cluster-sink.js';
export type { DiscoveryOptions } from './cluster/discovery-service.js';
export { recommendNode, selectCandidates } from './cluster/recommend.js';
export {
  isOriginAllowed,
  type NatterServerOptions,
  type ResolvedConfig,
  resolveConfig,
  type TokenOptions,
} from './config.js';
export { type ClientInfo, createHttpApi, type HttpApi, type HttpApiDeps } from './http/api.js';
export { type FetchHandler, type NodeListenerOptions, toNodeListener } from './http/node-adapter.js';
export { createLogger, type Logger, silentLogger } from './observability/logger.js';
export { createMetrics, type NatterMetrics } from './observability/metrics.js';
export * from './ports/index.js';
export { MemoryPresenceStore } from './presence/memory-presence-store.js';
export {
  type EphemeralSink,
  type PresenceEndpoint,
  type PresenceOptions,
  PresenceService,
} from './presence/presence-service.js';
export { createNatterServer, type NatterServer } from './server.js';
export { ChatSession, type SessionDeps } from './ws/chat-session.js';
export { type AcceptedConnection, WsTransport, type WsTransportDeps } from './ws/ws-transport.js';
