import type { Codec, CodecName, Message, PresenceInfo, SyncEntry } from '@natter/protocol';
import type { Backoff, BackoffOptions } from './backoff.js';
import type { ChannelAddedReason } from './cache.js';
import type { StateChange, TokenProvider } from './connection.js';
import type { EncryptedMessageInfo } from './e2ee/encrypted-channels.js';
import type { DecryptionFailedEvent } from './e2ee/events.js';
import type { HistoryPage, Session } from './http.js';
import type { AckEvent, ChangeEvent, OutboxEvent } from './outbox.js';
import type { PingFn, PlacementOptions } from './placement.js';
import type { ReceiptEvent, TypingEvent } from './presence.js';
import type { CachedChannel, ClientStore } from './store.js';
import type { StorageErrorEvent } from './stores/resilient.js';
import type { EntrySource, ResyncEvent } from './sync.js';
import type { FetchLike, WebSocketConstructor } from './transport.js';

/** Options of {@link ChatClient}. */
export interface ChatClientOptions {
  /** Server base URL, e.g. `https://chat.example.com` (HTTP API at `/v1/...`). */
  url: string;
  /** WebSocket endpoint. @default `url` with ws(s) scheme and path `/v1/ws` */
  wsUrl?: string;
  /**
   * Let discovery name candidate nodes: `true` uses `GET {url}/v1/discovery`, a string is a discovery URL. The
   * client connects to the candidate with the smallest measured round trip and, when a node fails, moves to
   * the next one at once (docs/client.md, "Placement and failover"). Without it the client always uses
   * `wsUrl`. @default false
   */
  discovery?: boolean | string;
  /**
   * The region the app wants its users in (with `discovery`): sent to discovery, and nodes of that region are
   * chosen over nearer ones elsewhere while any of them is healthy. @default none (the nearest node wins)
   */
  region?: string;
  /** Tuning of node placement and failover (with `discovery`); docs/client.md explains each. @default see each field */
  placement?: ClientPlacementOptions;
  /** Local storage: cursor, cache, outbox. @default a new MemoryStore (nothing survives a reload) */
  store?: ClientStore;
  /** WebSocket constructor. @default the `isomorphic-ws` export (`ws` in Node, the global WebSocket elsewhere) */
  WebSocket?: WebSocketConstructor;
  /** @default globalThis.fetch */
  fetch?: FetchLike;
  /** Wire codec: a name or a custom {@link Codec}. @default 'msgpack' */
  codec?: CodecName | Codec;
  /** This device's id. @default the id kept in the store, else a new one (saved to the store) */
  deviceId?: string;
  /** The app's own token source (for apps with their own auth); replaces login(). */
  getToken?: TokenProvider;
  /** A session saved from an earlier `session` event, to resume without logging in again. */
  session?: Session;
  /**
   * Reads the newest session the app saved, for clients that share one session (browser tabs): consulted
   * before every refresh and after a refused one, and a newer saved session is used instead of refreshing
   * (refresh tokens are one-time). Refreshes are serialized with the Web Locks API where there is one. See
   * "Several tabs" in docs/client.md. @default none
   */
  loadSession?: () => Session | undefined | Promise<Session | undefined>;
  /** Reconnect delay, or options of the default full-jitter backoff. @default { baseMs: 500, maxMs: 30000 } */
  backoff?: Backoff | BackoffOptions;
  /** Ping interval, ms. @default the server's `heartbeatIntervalMs` (20000) */
  heartbeatIntervalMs?: number;
  /** A ping without pong for this long marks the connection dead, ms. @default 10000 */
  pongTimeoutMs?: number;
  /**
   * When the runtime reports a network change (`offline`, or `online` while open) the client pings at once;
   * no pong within this long marks the connection dead, ms. @default 3000
   */
  probeTimeoutMs?: number;
  /** Time allowed from socket creation to `hello`, ms. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Time allowed for a request's answer, ms. @default 15000 */
  requestTimeoutMs?: number;
  /** Entries per sync page to ask for (the server caps it). @default the server's maximum */
  syncPageSize?: number;
  /** Lease on a pending message while this client sends it, ms. @default 20000 */
  outboxLeaseMs?: number;
  /** Report received messages to the server (delivery receipts for the senders). @default true */
  deliveryReceipts?: boolean;
  /** Send the token in an `Authorization` header instead of the URL (Node `ws` only). @default false */
  tokenInHeader?: boolean;
  /** Clock, ms. @default Date.now */
  now?: () => number;
  /**
   * End-to-end encrypted channels (MLS, docs/e2ee.md): this device's engine state is kept in `store` (which
   * then holds private keys), the device is published and kept stocked with KeyPackages at each connect.
   * @default false
   */
  e2ee?:
    | boolean
    | { /** Single-use KeyPackages kept on the server. @default 50 */ keyPackageTarget?: number };
}

/** Options of node placement: {@link PlacementOptions} (without `region`), plus the ping and a timeout. */
export interface ClientPlacementOptions extends Omit<PlacementOptions, 'region'> {
  /**
   * Measures the round trip to a candidate node. @default a `fetch` of the node's `GET /v1/ping`, timed from
   * request to response headers
   */
  ping?: PingFn;
  /** Time a discovery request may take before the client falls back to its configured URL, ms. @default 5000 */
  discoveryTimeoutMs?: number;
}

/** Payload of the `message` event. */
export interface MessageEvent {
  message: Message;
  /** Position in the user's sync log; each is emitted once, in increasing order. */
  pos: number;
  source: EntrySource;
  /**
   * Set on messages of end-to-end encrypted channels: the authenticated sending device and the decrypted
   * payload (with encrypted attachment references, `client.downloadEncrypted(ref)`). `message.text` is the
   * decrypted text already.
   */
  encrypted?: EncryptedMessageInfo;
}

/** Payload of `reactionChanged`: one reaction added or removed. */
export interface ReactionEvent {
  pos: number;
  channelId: string;
  seq: number;
  userId: string;
  emoji: string;
  added: boolean;
  source: EntrySource;
}

/** Result of `edit`, `delete` and `react`: the user's entry for the change (null: nothing changed). */
export interface MutationResult {
  entry: SyncEntry | null;
  /** True when the server had applied this change before (a retry). */
  duplicate: boolean;
}

/** Events of {@link ChatClient}, by name. */
export interface ChatClientEvents {
  /** The connection changed status. */
  state: StateChange;
  /** A message of the sync log (including the user's own, system messages and messages of other devices), in order. */
  message: MessageEvent;
  /** A message was edited (`message` is the current one); the cache holds it already. */
  messageEdited: MessageEvent;
  /** A message was deleted for everyone (`message` is the tombstone); the cache dropped its content. */
  messageDeleted: MessageEvent;
  /** A reaction was added or removed; the cached message's counts are updated. */
  reactionChanged: ReactionEvent;
  /** The server stored one of this user's pending messages. */
  ack: AckEvent;
  /** A pending message changed status. */
  outbox: OutboxEvent;
  /** A pending edit, delete or reaction changed status (`pending`, `sending`, `sent`, `failed`, `discarded`). */
  mutation: ChangeEvent;
  /** Continuity was lost: cached channels and messages were dropped; reload what the UI shows. */
  resync: ResyncEvent;
  /** A problem the client handled (a malformed frame, a throwing listener, a failed background request). */
  error: Error;
  /** Local storage failed; the client degraded (see `action`) and keeps working. */
  'storage-error': StorageErrorEvent;
  /**
   * The built-in session changed (login, every refresh, logout); save it to resume later, and share it with
   * other tabs (`setSession`). `undefined` when it ended. Not emitted for sessions the app handed in.
   */
  session: Session | undefined;
  /**
   * A channel appeared in the cache through sync: `created` (its creation entry), or `joined` (the user was
   * added to a channel the cache did not know; emitted once the channel has been fetched).
   */
  channel: ChannelAddedEvent;
  /** Someone in one of the user's channels is typing (or stopped). */
  typing: TypingEvent;
  /** The presence of a user who shares a small channel with the user changed. */
  presence: PresenceInfo;
  /** A member's read or delivery marker rose (including the user's own, from another device). */
  receipt: ReceiptEvent;
  /**
   * An entry of an end-to-end encrypted channel this device could not read, with the reason code; show a
   * placeholder at its `seq` (never dropped silently).
   */
  decryptionFailed: DecryptionFailedEvent;
}

/** Payload of the `channel` event. */
export interface ChannelAddedEvent {
  /** The channel as now cached: `cachedChannels()` includes it. */
  channel: CachedChannel;
  reason: ChannelAddedReason;
}

/** Counters for monitoring. */
export interface ClientStats {
  /** Gaps in live delivery filled by a sync. */
  gapsFilled: number;
  /** Gaps detected in live delivery. */
  gapsDetected: number;
  /** Times continuity was lost and local state dropped. */
  resyncs: number;
  /** Sync pages refused because their positions had a hole (a server fault); each was fetched again. */
  syncPagesRejected: number;
  /** Sync entries of kinds this SDK version does not know (from a newer server): skipped, cursor moved past. */
  unknownEntriesSkipped: number;
  /** Entries of this user (messages, edits, deletes, reactions) waiting or failed in the outbox. */
  outboxDepth: number;
  /** Send attempts repeated after retryable failures. */
  retries: number;
  /** Sessions opened after the first one. */
  reconnects: number;
  /** Entries dropped because their position had already been delivered. */
  duplicatesDropped: number;
  /** How local storage is doing: `full`, `no-cache` (cache writes off) or `memory` (nothing persisted). */
  storage: 'full' | 'no-cache' | 'memory';
}

/** A history page and where it came from. */
export interface HistoryResult extends HistoryPage {
  /** `server`, or `cache` when the server could not be reached. */
  source: 'server' | 'cache';
}

/** Options of `client.send`. */
export interface SendOptions {
  /** User ids @-mentioned in the text (non-members are dropped by the server). */
  mentions?: readonly string[];
  /** Uploads of the caller's (`client.upload`) the message carries, each sent once. */
  attachments?: ReadonlyArray<{ mediaId: string }>;
  /** Seq of the message this one answers, in the same channel. */
  replyTo?: number;
  /** Seq of the thread root this message is posted in. */
  threadRoot?: number;
}
