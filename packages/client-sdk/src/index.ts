/**
 * natter client SDK: one {@link ChatClient} over a reconnecting connection, gap-free sync, a bounded local
 * cache and a durable outbox. Runs in browsers, Node and React Native; the LevelDB store for Node is in
 * `@natter/client/level`. Engine parts (connection, sync, outbox, cache) are in `@natter/client/internals`,
 * which is not a stable API.
 * @packageDocumentation
 */
export {
  type Ban,
  type Block,
  type Channel,
  type ChannelKind,
  type ChannelSummary,
  type ChosenStatus,
  CloseCode,
  type Codec,
  type CodecName,
  type DiscoveryAnswer,
  type DiscoveryCandidate,
  ErrorCode,
  isNatterError,
  isRetryable,
  jsonCodec,
  type Message,
  msgpackCodec,
  NatterError,
  type PresenceInfo,
  type ProtocolLimits,
  type Report,
  type ReportReason,
  type SyncEntry,
  type SystemEvent,
  type UserProfile,
} from '@natter/protocol';
export { type Backoff, type BackoffOptions, createBackoff, fullJitterBackoff } from './backoff.js';
export type { ChannelAddedReason } from './cache.js';
export { ChatClient } from './client.js';
export type {
  ChannelAddedEvent,
  ChatClientEvents,
  ChatClientOptions,
  ClientPlacementOptions,
  ClientStats,
  HistoryResult,
  MessageEvent,
  MutationResult,
  ReactionEvent,
  SendOptions,
} from './client-types.js';
export {
  type ConnectionStatus,
  type StateChange,
  StateReason,
  type TokenProvider,
  type TokenRequest,
} from './connection.js';
export type { EncryptedFileInput } from './e2ee/attachments.js';
export type { EncryptedChannels, EncryptedMessageInfo } from './e2ee/encrypted-channels.js';
export {
  EncryptedFileError,
  type EncryptedFileRef,
  type EncryptedThumbnail,
  MAX_THUMBNAIL_BYTES,
} from './e2ee/encrypted-file.js';
export type { DecryptionFailedEvent } from './e2ee/events.js';
export type { EncryptedPayload } from './e2ee/payload.js';
export type { EncryptedReadState, ReadEncryptedMessage } from './e2ee/read-entries.js';
export { type AnyErrorCode, ClientErrorCode } from './errors.js';
export {
  type CallInput,
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
export type {
  OutboxAttachment,
  OutboxFile,
  ResumableUploadRegistry,
  UploadContext,
  UploadData,
  UploadOptions,
} from './media.js';
export type { ReportTarget } from './moderation-actions.js';
export type {
  AckEvent,
  ChangeEvent,
  OutboxEvent,
  OutboxStatus,
  PendingChange,
  PendingMessage,
  SendHandle,
} from './outbox.js';
export type { PlacedNode, PlacementOptions } from './placement.js';
export type { ReceiptEvent, TypingEvent } from './presence.js';
export {
  type CachedChannel,
  type CachedMessagesQuery,
  type CacheLimits,
  type ClientStore,
  DEFAULT_CACHE_LIMITS,
  type MutationTarget,
  type OutboxError,
  type OutboxItem,
  type OutboxMutationItem,
  type OutboxSendItem,
  type SyncCommit,
  type SyncCursor,
} from './store.js';
export {
  type IdbFactoryLike,
  type IdbKeyRangeLike,
  IndexedDbStore,
  type IndexedDbStoreOptions,
} from './stores/indexeddb.js';
export type { KvEntry, KvRange, KvTransaction, OrderedKv } from './stores/kv.js';
export { KvClientStore } from './stores/kv-store.js';
export { MemoryStore } from './stores/memory.js';
export type { StorageAction, StorageErrorEvent } from './stores/resilient.js';
export type { EntrySource, ResyncEvent } from './sync.js';
export type {
  FetchInitLike,
  FetchLike,
  FetchResponseLike,
  WebSocketConstructor,
  WebSocketLike,
} from './transport.js';
