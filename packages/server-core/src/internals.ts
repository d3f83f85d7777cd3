/**
 * Engine parts of natter's server core, for tests, benchmarks and tools that drive the engine directly.
 * Not a stable API: these follow the engine's internals from release to release. Apps use the root export.
 * @packageDocumentation
 */
export { AccountGate, type AccountGateOptions, usernameFrom } from './accounts/account-gate.js';
export { AccountService, toProfile } from './accounts/account-service.js';
export { AuthLimits } from './accounts/auth-limits.js';
export { LoginThrottle } from './accounts/login-throttle.js';
export { hashPassword, verifyPassword } from './accounts/passwords.js';
export { type IssuedTokens, type RefreshedTokens, TokenService } from './accounts/token-service.js';
export { AppChat, type AppChatOptions, type AppPost } from './chat/app-chat.js';
export {
  ChatService,
  type HistoryRequest,
  type SendInput,
  type SendResult,
  type SyncPage,
} from './chat/chat-service.js';
export { type LiveEndpoint, LocalHub } from './chat/local-hub.js';
export { ClusterSink, userTopic } from './cluster/cluster-sink.js';
export { recommendNode, selectCandidates } from './cluster/recommend.js';
export { isOriginAllowed, type ResolvedConfig, resolveConfig } from './config.js';
export { DeviceDirectory, type DeviceDirectoryOptions } from './e2ee/device-directory.js';
export { EncryptedChannels, type EncryptedChannelsOptions } from './e2ee/encrypted-channels.js';
export { ServerEvents, type ServerEventsOptions } from './events/server-events.js';
export { type ClientInfo, createHttpApi, type HttpApi, type HttpApiDeps } from './http/api.js';
export { type FetchHandler, type NodeListenerOptions, toNodeListener } from './http/node-adapter.js';
export { internalsOf } from './internals-registry.js';
export { BlockList, type BlockListOptions } from './moderation/block-list.js';
export { DirectGuard } from './moderation/direct-guard.js';
export {
  GroupModeration,
  type GroupModerationOptions,
  refuseBanned,
  takeSlowModeTurn,
} from './moderation/group-moderation.js';
export { UserModeration, type UserModerationOptions } from './moderation/user-moderation.js';
export { type PresenceEndpoint, PresenceService } from './presence/presence-service.js';
export type { NodeParts } from './server/wiring.js';
export { ApiKeys } from './server-api/api-keys.js';
export { ServerApiService, type ServerApiServiceDeps } from './server-api/server-api-service.js';
export { ChatSession, type SessionDeps } from './ws/chat-session.js';
export { type AcceptedConnection, WsTransport, type WsTransportDeps } from './ws/ws-transport.js';
