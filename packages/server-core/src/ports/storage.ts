import type { Attachment, ChannelKind, Message, SyncEntry, SystemEvent } from '@natter/protocol';
import type { LifecycleReads, LifecycleWrites } from './lifecycle.js';
import type { ModerationReads, ModerationWrites } from './moderation.js';

/**
 * The storage port. Version 3 of the contract; docs/adapters.md states the guarantees each method gives,
 * and `@natter/storage-conformance` checks them.
 *
 * The chat rules (who may send, the group limit, idempotency) live in the core and run inside
 * {@link ChatStore.write} against the small {@link WriteTransaction} interface, so every adapter
 * enforces them identically; an adapter only stores rows and allocates sequences atomically.
 */
export const STORAGE_CONTRACT_VERSION = 6;

/** What an adapter declares about itself; the core reads `capabilities` before using optional features. */
export interface StoreManifest {
  /** Adapter name, e.g. `sqlite`. */
  name: string;
  /** Contract version implemented; must equal {@link STORAGE_CONTRACT_VERSION}. */
  contractVersion: number;
  /** Schema version of the adapter's own on-disk layout. */
  schemaVersion: number;
  capabilities: {
    /** `searchMessages` is implemented (full-text search). */
    search: boolean;
    /** Several processes may write to the same store at once. */
    multiProcess: boolean;
    /** Data survives `close()` and reopening. */
    persistent: boolean;
    /**
     * Edits, deletes, reactions and threads (`tx.lifecycle` and `chat.lifecycle`). Absent means false:
     * the server then answers those requests with `NATTER_NOT_FOUND`, as for search.
     */
    lifecycle?: boolean;
    /**
     * Blocks, reports, bans and slow mode (`tx.moderation` and `chat.moderation`). Absent means false: the
     * server then answers the moderation routes with `NATTER_NOT_FOUND` and enforces nothing.
     */
    moderation?: boolean;
  };
}

/** A user account row. */
export interface UserRecord {
  id: string;
  /** Unique, lower-case login name. */
  username: string;
  displayName: string;
  /** scrypt hash in PHC-like form; null for users managed by an external authenticator. */
  passwordHash: string | null;
  createdAt: number;
  /**
   * When the app's backend deactivated the user (server API), ms since the epoch; absent while active
   * (adapters leave the key out then). A deactivated user's tokens are refused and their login fails;
   * their messages and memberships stay.
   */
  deactivatedAt?: number;
}

/** The fields {@link AccountStore.updateUser} may change; absent fields stay as they are. */
export interface UserPatch {
  displayName?: string;
  passwordHash?: string;
  /** A time deactivates the user; `null` reactivates them. */
  deactivatedAt?: number | null;
}

/**
 * A user after a patch, for adapters that keep whole records: absent fields stay, `deactivatedAt: null`
 * removes the key (an active user has none).
 */
export function applyUserPatch(user: UserRecord, patch: UserPatch): UserRecord {
  const { deactivatedAt: previous, ...rest } = user;
  const deactivatedAt = patch.deactivatedAt === undefined ? previous : (patch.deactivatedAt ?? undefined);
  return {
    ...rest,
    displayName: patch.displayName ?? user.displayName,
    passwordHash: patch.passwordHash ?? user.passwordHash,
    ...(deactivatedAt !== undefined ? { deactivatedAt } : {}),
  };
}

/** A channel row. */
export interface ChannelRecord {
  id: string;
  kind: ChannelKind;
  name: string | null;
  createdBy: string;
  createdAt: number;
  /** Highest `seq` allocated in the channel (0 when empty). */
  lastSeq: number;
  /** For direct channels: the sorted pair of user ids, `a|b`; unique. Null for groups. */
  directKey: string | null;
}

/** Role of a member in a group. Direct channels have two `member`s. */
export type MemberRole = 'admin' | 'member';

/** A membership row. */
export interface MemberRecord {
  channelId: string;
  userId: string;
  role: MemberRole;
  joinedAt: number;
  /** Seq of the system message that added the member: the member sees history from here on. */
  joinedSeq: number;
  /** Read marker: messages with `seq <= readSeq` count as read. */
  readSeq: number;
  /** Delivery marker: a device of the member has stored every message with `seq <= deliveredSeq`. */
  deliveredSeq: number;
}

/** A message about to be stored; the store assigns `seq`. */
export interface NewMessage {
  id: string;
  channelId: string;
  senderId: string;
  clientMsgId: string | null;
  kind: 'text' | 'system';
  text: string;
  mentions: string[];
  system: SystemEvent | null;
  createdAt: number;
  /** The seq of the message this one answers (stores with the `lifecycle` capability keep it). */
  replyTo?: number;
  /** The seq of the thread root when this is a thread reply (`lifecycle` capability). */
  threadRoot?: number;
  /**
   * Uploads the message carries, with their metadata (contract 6): stored with the message and returned
   * with it wherever messages are read; absent (never an empty array) when it carries none.
   */
  attachments?: Attachment[];
}

/** Result of {@link WriteTransaction.appendMessage}. */
export interface AppendedMessage {
  message: Message;
  /**
   * The sync log position allocated for each recipient, in the order given. A store that fans entries
   * out after its commit leaves out the users whose log it cannot reach now (they get theirs later,
   * through `onLateEntries`); the sender among them makes the core answer the send `NATTER_UNAVAILABLE`.
   */
  positions: Array<{ userId: string; pos: number }>;
}

/**
 * A user's text message for {@link WriteTransaction.appendChecked}: the send as the core received it,
 * before the chat rules that the adapter applies in the same step.
 */
export interface CheckedSend {
  /** The new message's id (used only when the message is stored). */
  id: string;
  channelId: string;
  senderId: string;
  /** The sender's idempotency key. */
  clientMsgId: string;
  text: string;
  /** Users the sender mentions, each once; the adapter keeps those who are members, in this order. */
  mentions: string[];
  createdAt: number;
  /** Uploads the message carries (contract 6), stored like {@link NewMessage.attachments}. */
  attachments?: Attachment[];
}

/** Result of {@link WriteTransaction.appendChecked}. */
export type CheckedAppendResult =
  /** Stored, with one sync entry per member. */
  | { kind: 'appended'; appended: AppendedMessage }
  /** The sender used this key before: their earlier message and their position for it; nothing stored. */
  | { kind: 'duplicate'; message: Message; senderPos: number }
  /** The sender is not a member (or the channel does not exist); nothing stored. */
  | { kind: 'notMember' };

/** A stored refresh token (only its hash is kept). */
export interface RefreshTokenRecord {
  tokenHash: string;
  userId: string;
  deviceId: string;
  expiresAt: number;
}

/**
 * A session revocation: access tokens of `subject` issued before `issuedBefore` (ms) are refused, and so
 * are refreshes of a revoked session, until `expiresAt` (ms), when the row may be dropped. `subject` is
 * `s:<sessionId>` for one session (logout, refresh-token reuse; `issuedBefore` is then far in the
 * future) or `u:<userId>` for every session of a user (password change, logout of all devices).
 */
export interface SessionRevocation {
  subject: string;
  issuedBefore: number;
  expiresAt: number;
}

/** A page request on a channel's history; at most one anchor. */
export interface HistoryQuery {
  /** Messages with `seq < before`. */
  before?: number;
  /** Messages with `seq > after`. */
  after?: number;
  /** Messages around `around` (half before, the anchor and the rest after). */
  around?: number;
  limit: number;
  /** Lowest seq the reader may see (their `joinedSeq`). */
  minSeq: number;
}

/** A page request over messages visible to one user, newest first. */
export interface MessageQuery {
  /** The reader: only channels they are a member of now, from their `joinedSeq` on, are searched. */
  userId: string;
  limit: number;
  /** Only messages whose id sorts before this one (paging: pass the last id of the previous page). */
  beforeId?: string;
  /** Only this channel (the reader must still be a member). */
  channelId?: string;
}

/** A page of history in ascending `seq`. */
export interface HistoryPage {
  messages: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

/**
 * Operations available inside {@link ChatStore.write}. Everything done through one transaction commits
 * or rolls back as a unit. Reads inside it see the transaction's own writes.
 */
export interface WriteTransaction {
  getChannel(channelId: string): Promise<ChannelRecord | undefined>;
  getMember(channelId: string, userId: string): Promise<MemberRecord | undefined>;
  listMembers(channelId: string): Promise<MemberRecord[]>;
  findDirectChannel(directKey: string): Promise<ChannelRecord | undefined>;
  /** The message a user sent earlier with this idempotency key, and the sender's sync position for it. */
  findByClientMsgId(
    senderId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; senderPos: number } | undefined>;
  insertChannel(channel: Omit<ChannelRecord, 'lastSeq'>): Promise<void>;
  upsertMember(member: MemberRecord): Promise<void>;
  deleteMember(channelId: string, userId: string): Promise<void>;
  renameChannel(channelId: string, name: string): Promise<void>;
  /** Raises the read marker; never lowers it. Returns the marker after the call (0 for a non-member). */
  raiseReadMarker(channelId: string, userId: string, seq: number): Promise<number>;
  /** Raises the delivery marker; never lowers it. Returns the marker after the call (0 for a non-member). */
  raiseDeliveredMarker(channelId: string, userId: string, seq: number): Promise<number>;
  /**
   * Stores a message with the channel's next `seq` and appends one sync entry to each recipient's log
   * with that user's next position. Allocation happens under the transaction's lock, so no entry
   * committed later can carry a smaller seq or position than one already committed.
   */
  appendMessage(message: NewMessage, recipientIds: readonly string[]): Promise<AppendedMessage>;
  /**
   * Optional: a whole send in one step, so a remote store can do it in one round trip. It applies the
   * rules the core otherwise applies itself with `findByClientMsgId`, `listMembers` and
   * `appendMessage`, in this order: a key the sender already used gives `duplicate`; a sender who is
   * not a member gives `notMember`; otherwise the text message is stored with mentions kept only for
   * members, and every member (each once, in an order the adapter chooses) gets a sync entry.
   *
   * The adapter may run it together with other writes' appends (the PostgreSQL adapter runs a batch's
   * appends in one statement); the write still commits or rolls back as a whole. docs/adapters.md
   * states the contract; `@natter/storage-conformance` checks it through `ChatService`.
   */
  appendChecked?(send: CheckedSend): Promise<CheckedAppendResult>;
  /** Edits, deletes, reactions: present when the manifest declares `lifecycle`. */
  readonly lifecycle?: LifecycleWrites;
  /** Blocks, reports, bans, slow mode: present when the manifest declares `moderation`. */
  readonly moderation?: ModerationWrites;
}

/** Users and refresh tokens. Plain rows; no chat rules. */
export interface AccountStore {
  /** @throws NatterError CONFLICT when the username is taken. */
  createUser(user: UserRecord): Promise<void>;
  getUser(userId: string): Promise<UserRecord | undefined>;
  getUsers(userIds: readonly string[]): Promise<UserRecord[]>;
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  /** Users whose username starts with `prefix`, by username. */
  searchUsers(prefix: string, limit: number): Promise<UserRecord[]>;
  /** Patches the given fields; `deactivatedAt: null` reactivates. Returns the user after the patch. */
  updateUser(userId: string, patch: UserPatch): Promise<UserRecord | undefined>;
  saveRefreshToken(token: RefreshTokenRecord): Promise<void>;
  /** Deletes and returns the token (one-time use, for rotation); undefined when absent or expired. */
  takeRefreshToken(tokenHash: string, now: number): Promise<RefreshTokenRecord | undefined>;
  /** Revokes a user's refresh tokens: of one device, or of all devices. */
  revokeRefreshTokens(userId: string, deviceId?: string): Promise<void>;
  /**
   * Stores a revocation. A subject revoked again keeps the later `issuedBefore` and the later `expiresAt`
   * (a revocation never shrinks). Adapters may drop rows whose `expiresAt` is not after `now`.
   */
  addRevocation(revocation: SessionRevocation, now: number): Promise<void>;
  /**
   * The greatest `issuedBefore` among the revocations of these subjects whose `expiresAt` is after `now`;
   * 0 when none. Read by every node at handshakes and API calls (behind a cache of a few seconds).
   */
  revokedBefore(subjects: readonly string[], now: number): Promise<number>;
}

/** Optional facts about a write that let an adapter batch well; never needed for correctness. */
export interface WriteHint {
  /** The channel the write appends to: group commit puts rows of one channel next to each other. */
  channelId?: string;
  /**
   * The function's only store call is one `appendChecked` (when the transaction offers it) for a
   * message without attachments, and it uses the transaction for nothing else afterwards. An adapter
   * may then commit that append as one statement of its own, with no BEGIN and COMMIT around it
   * (PostgreSQL: one round trip per send). Adapters are free to ignore it.
   */
  appendOnly?: boolean;
}

/** Channel, history and sync-log reads, and the transactional write path. */
export interface ChatStore {
  /**
   * Random id of this log's lifetime, fixed when the store is created. A device cursor from another
   * epoch cannot be continued.
   */
  epoch(): string;
  /**
   * Runs `fn` atomically. Adapters may commit several concurrent calls in one transaction (group commit),
   * but each call is isolated: if `fn` throws, its writes are rolled back and only its promise rejects.
   * The returned promise settles only after the commit is durable (per the adapter's durability option).
   */
  write<T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T>;
  getChannel(channelId: string): Promise<ChannelRecord | undefined>;
  getMember(channelId: string, userId: string): Promise<MemberRecord | undefined>;
  listMembers(channelId: string): Promise<MemberRecord[]>;
  /** Channels the user is a member of, with their membership, newest activity first. */
  listChannelsOf(userId: string): Promise<Array<{ channel: ChannelRecord; member: MemberRecord }>>;
  getMessage(channelId: string, seq: number): Promise<Message | undefined>;
  /**
   * Count of `text` messages with `seq > afterSeq` not sent by `userId`. With the `lifecycle` capability,
   * deleted messages do not count, nor do thread replies unless they mention `userId`.
   */
  countUnread(channelId: string, userId: string, afterSeq: number): Promise<number>;
  readHistory(channelId: string, query: HistoryQuery): Promise<HistoryPage>;
  /**
   * Text messages that @-mention `query.userId`, newest first, limited to what the reader may see.
   * Every adapter implements it (an index of mentions written by `appendMessage`).
   */
  mentionsOf(query: MessageQuery): Promise<Message[]>;
  /**
   * Full-text search over text messages visible to the reader, newest first. Only when
   * `manifest.capabilities.search` is true. `text` is user input: adapters must treat it as words to match,
   * never as query syntax that can fail.
   */
  searchMessages?(query: MessageQuery & { text: string }): Promise<Message[]>;
  /** The user's newest sync position (0 when the log is empty). */
  syncHead(userId: string): Promise<number>;
  /** Entries of the user's sync log with `pos > after`, ascending, at most `limit`. */
  readSync(userId: string, after: number, limit: number): Promise<SyncEntry[]>;
  /** Reactions and threads: present when the manifest declares `lifecycle`. */
  readonly lifecycle?: LifecycleReads;
  /** Blocks, reports, bans, slow mode: present when the manifest declares `moderation`. */
  readonly moderation?: ModerationReads;
  /**
   * Optional: subscribes to sync entries the adapter committed after the `write()` that produced them
   * returned without them: a store that fans entries out to users' logs in a later step (the sharded
   * PostgreSQL store) reports there what its fan-out worker committed for a node that crashed after
   * its commit, or for a recipient whose server was down. The core delivers them live like a write's
   * entries. Stores that commit every entry inside `write()` never call it. Returns the unsubscribe.
   */
  onLateEntries?(listener: LateEntriesListener): () => void;
}

/** Receives sync entries committed after their write returned: each user's new positions, ascending. */
export type LateEntriesListener = (entries: ReadonlyArray<{ userId: string; pos: number }>) => void;

/** A complete storage adapter: one object serving both ports, opened before use. */
export interface StorageAdapter {
  readonly manifest: StoreManifest;
  readonly accounts: AccountStore;
  readonly chat: ChatStore;
  /** Opens (and migrates) the store. @throws NatterError STORE_VERSION_UNSUPPORTED for a newer schema. */
  open(): Promise<void>;
  /** Flushes pending writes and releases resources. */
  close(): Promise<void>;
}
