/**
 * natter client SDK: one {@link ChatClient} over a reconnecting connection, gap-free sync, a bounded local
 * cache and a durable outbox. Runs in browsers, Node and React Native; the LevelDB store for Node is in
 * `@natter/client/level`.
 * @packageDocumentation
 */
export {
  type Channel,
  type ChannelKind,
  type ChannelSummary,
  CloseCode,
  type Codec,
  type CodecName,
  type DiscoveryAnswer,
  type DiscoveryCandidate,
  ErrorCode,
  type HelloFrame,
  isNatterError,
  jsonCodec,
  type Message,
  msgpackCodec,
  NatterError,
  newId,
  type PresenceInfo,
  type ProtocolLimits,
  type SyncEntry,
  type SystemEvent,
  type UserProfile,
} from '@natter/protocol';
export { Auth, type AuthOptions } from './auth.js';
export {
  type Backoff,
  type BackoffOptions,
  createBackoff,
  delayWithRetryAfter,
  fullJitterBackoff,
} from './backoff.js';
export {
  applyMessageToChannel,
  type ChannelAddedReason,
  ChatCache,
  type ChatCacheHooks,
} from './cache.js';
export { ChatClient, endpoints } from './client.js';
export type {
  ChannelAddedEvent,
  ChatClientEvents,
  ChatClientOptions,
  ClientPlacementOptions,
  ClientStats,
  HistoryResult,
  MessageEvent,
} from './client-types.js';
export {
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  type ConnectionStatus,
  type OutgoingFrame,
  parseRetryAfter,
  type StateChange,
  StateReason,
  type TokenProvider,
  type TokenRequest,
} from './connection.js';
export { Emitter, type Listener } from './emitter.js';
export { type AnyErrorCode, ClientError, ClientErrorCode, isRetryable } from './errors.js';
export {
  type Discovery,
  type HistoryPage,
  type HistoryQuery,
  HttpClient,
  type HttpClientOptions,
  type MemberReceipt,
  type MessageQuery,
  type PushSubscriptionInput,
  type Session,
} from './http.js';
export {
  type AckEvent,
  Outbox,
  type OutboxDeps,
  type OutboxEvent,
  type OutboxStatus,
  type PendingMessage,
  type SendHandle,
} from './outbox.js';
export {
  chooseNode,
  type DiscoverFn,
  type DiscoveryHint,
  type DiscoveryOutcome,
  type FailoverAdvice,
  type PingFn,
  type PlacedNode,
  Placement,
  type PlacementDecision,
  type PlacementDeps,
  type PlacementOptions,
} from './placement.js';
export {
  type ChosenStatus,
  Realtime,
  type RealtimeDeps,
  type ReceiptEvent,
  type TypingEvent,
} from './presence.js';
export { isSyncEntry, parseServerFrame } from './server-frames.js';
export {
  type CachedChannel,
  type CachedMessagesQuery,
  type CacheLimits,
  type ClientStore,
  DEFAULT_CACHE_LIMITS,
  type OutboxError,
  type OutboxItem,
  type SyncCommit,
  type SyncCursor,
} from './store.js';
export {
  type IdbFactoryLike,
  type IdbKeyRangeLike,
  IndexedDbKv,
  IndexedDbStore,
  type IndexedDbStoreOptions,
} from './stores/indexeddb.js';
export type { KvEntry, KvRange, KvTransaction, OrderedKv } from './stores/kv.js';
export { KvClientStore } from './stores/kv-store.js';
export { MemoryKv, MemoryStore } from './stores/memory.js';
export {
  isQuotaError,
  ResilientStore,
  type StorageAction,
  type StorageErrorEvent,
} from './stores/resilient.js';
export { type EntrySource, type ResyncEvent, type SyncDeps, SyncEngine, type SyncStats } from './sync.js';
export type {
  FetchInitLike,
  FetchLike,
  FetchResponseLike,
  WebSocketConstructor,
  WebSocketLike,
} from './transport.js';
