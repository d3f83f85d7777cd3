import type { Channel, ChannelSummary, Message } from '@natter/protocol';
import type { EncryptedFileRef } from './e2ee/encrypted-file.js';
import type { OutboxAttachment } from './media.js';

/** The device's position in its user's sync log. */
export interface SyncCursor {
  /** Epoch of the log the position belongs to; undefined before the first sync. */
  epoch: string | undefined;
  /** Highest position applied (0 before the first entry). */
  pos: number;
}

/** A channel as the cache keeps it: the channel, plus the summary fields when a channel list supplied them. */
export type CachedChannel = Channel &
  Partial<Pick<ChannelSummary, 'lastSeq' | 'lastMessage' | 'readSeq' | 'unread'>>;

/** The error a failed outbox item carries. */
export interface OutboxError {
  code: string;
  message: string;
}

/** What every outbox entry carries, whatever its kind. */
export interface OutboxItemBase {
  /**
   * The entry's key and idempotency key: a send's `clientMsgId` (the server returns the original message when
   * it sees it again), or a mutation's `clientId` (the server answers a retry with the original result).
   */
  clientMsgId: string;
  /** Sender; items of other users in a shared store are left alone. */
  userId: string;
  channelId: string;
  createdAt: number;
  /** Sending order within a channel: lower first. */
  order: number;
  /** `pending` waits to be (re)sent; `failed` needs `retry()` or `discard()`. */
  status: 'pending' | 'failed';
  /** Send attempts so far. */
  attempts: number;
  /** Why it failed, for `failed` items. */
  error?: OutboxError;
  /** Who may send it now: the owner id of one client instance, until `expiresAt` (ms). */
  lease?: { owner: string; expiresAt: number };
}

/** A message waiting in the outbox, as persisted. */
export interface OutboxSendItem extends OutboxItemBase {
  /** Absent on items persisted before the outbox carried mutations: those are sends too. */
  kind?: 'send';
  text: string;
  mentions: string[];
  /** Seq of the message this one answers (kept with the item, so a reply stays a reply across restarts). */
  replyTo?: number;
  /** Seq of the thread root this message goes into. */
  threadRoot?: number;
  /**
   * Attachments: uploads made (`mediaId`), or files chosen offline, uploaded before the send (and then
   * replaced by their `mediaId`, so a resend never uploads twice).
   */
  attachments?: OutboxAttachment[];
  /**
   * Set for a send in an end-to-end encrypted channel: it leaves as MLS ciphertext. `ciphertext` (base64) is
   * made at the first attempt and kept, so a retry after a lost answer sends the same bytes (the server
   * answers it as a duplicate); it is made again only when the server refuses it as of a past epoch.
   * `attachments` are encrypted attachment references (keys included) for the payload.
   */
  e2ee?: { ciphertext?: string; attachments?: EncryptedFileRef[] };
}

/**
 * The message a mutation changes: a stored one by `seq`, or one still in the outbox by its send's
 * `clientMsgId` (rewritten to its `seq` once that send is acknowledged).
 */
export type MutationTarget = { seq: number } | { clientMsgId: string };

/** An edit, delete or reaction waiting in the outbox, as persisted. */
export type OutboxMutationItem = OutboxItemBase & { target: MutationTarget } & (
    | { kind: 'edit'; text: string; mentions?: string[] }
    | { kind: 'delete' }
    | { kind: 'react'; emoji: string; add: boolean }
  );

/** One outbox entry, as persisted: a send or a mutation, discriminated by `kind`. */
export type OutboxItem = OutboxSendItem | OutboxMutationItem;

/** True for a send (including items persisted before mutations went through the outbox). */
export function isSendItem(item: OutboxItem): item is OutboxSendItem {
  return item.kind === undefined || item.kind === 'send';
}

/** Bounds of the message cache. */
export interface CacheLimits {
  /** Newest messages kept per channel; older ones are evicted. @default 500 */
  maxMessagesPerChannel: number;
  /** Channels whose messages are kept; the least recently active are evicted first. @default 200 */
  maxCachedChannels: number;
}

/** The defaults of {@link CacheLimits}. */
export const DEFAULT_CACHE_LIMITS: Readonly<CacheLimits> = Object.freeze({
  maxMessagesPerChannel: 500,
  maxCachedChannels: 200,
});

/** What one step of sync writes at once: cached data and the cursor that covers it. */
export interface SyncCommit {
  cursor: SyncCursor;
  messages: readonly Message[];
  /** Channels to upsert. */
  channels: readonly CachedChannel[];
  /** Channels the user left or was removed from. */
  removedChannelIds: readonly string[];
}

/** Which messages of a channel to read from the cache. */
export interface CachedMessagesQuery {
  /** Only messages with `seq < beforeSeq`. */
  beforeSeq?: number;
  /** Only messages with `seq > afterSeq`. */
  afterSeq?: number;
  /** At most this many: the newest ones, or the oldest ones after `afterSeq`. @default 50 */
  limit?: number;
}

/**
 * The SDK's local storage port: sync cursor, a bounded cache of channels and messages, and the durable outbox
 * with leases. Small on purpose; every implementation passes the same test suite. Methods may throw (quota,
 * I/O): the client wraps the store so such failures degrade caching instead of breaking send and receive.
 */
export interface ClientStore {
  /** Opens the underlying storage; idempotent. */
  open(): Promise<void>;
  /** Closes it; idempotent. */
  close(): Promise<void>;

  /** A small string value (device id, user id). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;

  /**
   * The end-to-end encryption engine state of one device (`owner`: `userId/deviceId`), if any. It holds the
   * device's private keys: keep the store where the app keeps secrets.
   */
  getE2eeState(owner: string): Promise<Uint8Array | undefined>;
  /**
   * Replaces a device's engine state; resolves once written. The SDK acts on an engine result (sends a
   * commit, shows a message) only after this resolved, so a crash never leaves keys the log has moved past.
   */
  putE2eeState(owner: string, state: Uint8Array): Promise<void>;
  /** Forgets a device's engine state (logout of an encrypted device, or a revoked device). */
  deleteE2eeState(owner: string): Promise<void>;

  /** The stored cursor, if any. */
  getCursor(): Promise<SyncCursor | undefined>;
  /** Writes messages, channel changes and the cursor atomically. */
  commitSync(commit: SyncCommit): Promise<void>;
  /** Forgets the cursor and every cached channel and message (after `NATTER_RESYNC_REQUIRED` or a user change). */
  resetSync(): Promise<void>;

  /** Adds messages to the cache (history pages); keeps the cache within its bounds. */
  putMessages(messages: readonly Message[]): Promise<void>;
  /** Cached messages of a channel, ascending by `seq`. */
  getMessages(channelId: string, query?: CachedMessagesQuery): Promise<Message[]>;
  /** Replaces the cached channel list. */
  replaceChannels(channels: readonly CachedChannel[]): Promise<void>;
  /** Upserts channels. */
  putChannels(channels: readonly CachedChannel[]): Promise<void>;
  /** Every cached channel. */
  getChannels(): Promise<CachedChannel[]>;
  /** Drops cached channels and messages only (keeps cursor and outbox): the first step when storage is full. */
  clearCache(): Promise<void>;

  /** Every outbox item, ascending by `order`. */
  listOutbox(): Promise<OutboxItem[]>;
  putOutbox(item: OutboxItem): Promise<void>;
  deleteOutbox(clientMsgId: string): Promise<void>;
  /**
   * Atomically takes the lease of a pending item for `owner` until `now + ttlMs`: succeeds when the item is
   * pending and unleased, its lease expired, or `owner` already holds it. Returns the leased item, or
   * undefined when it is gone, not pending, or leased by someone else.
   */
  leaseOutbox(
    clientMsgId: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<OutboxItem | undefined>;
  /** Gives up `owner`'s lease on an item (no-op when someone else holds it). */
  releaseLease(clientMsgId: string, owner: string): Promise<void>;
}
