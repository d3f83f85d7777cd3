import {
  type Ban,
  type Block,
  type Channel,
  type ChannelSummary,
  ErrorCode,
  getCodec,
  type MediaBody,
  type Message,
  type MessageEntry,
  NatterError,
  newPrefixedId,
  type PresenceInfo,
  type ProtocolLimits,
  type Report,
  type ReportReason,
  type UserProfile,
} from '@natter/protocol';
import { Auth } from './auth.js';
import { createBackoff, createRetryDelay } from './backoff.js';
import { ChatCache } from './cache.js';
import { ChannelHistory } from './channel-history.js';
import { ClientMedia } from './client-media.js';
import {
  createPlacement,
  endpoints,
  type Lifecycle,
  listenForPageHide,
  webSocketConstructor,
} from './client-setup.js';
import type {
  ChatClientEvents,
  ChatClientOptions,
  ClientStats,
  HistoryResult,
  MutationResult,
  SendOptions,
} from './client-types.js';
import { Connection, type ConnectionStatus } from './connection.js';
import type { EncryptedFileInput } from './e2ee/attachments.js';
import { ClientEncryption } from './e2ee/client-encryption.js';
import type { EncryptedChannels } from './e2ee/encrypted-channels.js';
import type { EncryptedFileRef } from './e2ee/encrypted-file.js';
import { isEncryptedEntry } from './e2ee/encrypted-send.js';
import { Emitter } from './emitter.js';
import { toError } from './errors.js';
import {
  type HistoryPage,
  type HistoryQuery,
  HttpClient,
  type MemberReceipt,
  type MessageQuery,
  type Session,
} from './http.js';
import { JoinedChannels } from './join-fetcher.js';
import { fromBase64, type OutboxAttachment, type UploadData, type UploadOptions } from './media.js';
import { MessageActions } from './message-actions.js';
import { ModerationActions, type ReportTarget } from './moderation-actions.js';
import { Outbox, type PendingChange, type PendingMessage, type SendHandle } from './outbox.js';
import type { PlacedNode, Placement } from './placement.js';
import { type ChosenStatus, Realtime } from './presence.js';
import {
  type CachedChannel,
  type CachedMessagesQuery,
  DEFAULT_CACHE_LIMITS,
  type SyncCursor,
} from './store.js';
import { MemoryStore } from './stores/memory.js';
import { ResilientStore } from './stores/resilient.js';
import { SyncEngine } from './sync.js';

const META_DEVICE = 'deviceId';

/**
 * The natter client: a thin facade over the connection, sync, outbox, cache and realtime parts.
 * ```ts
 * const client = new ChatClient({ url: 'https://chat.example.com' });
 * client.on('message', ({ message }) => render(message));
 * await client.login('ada', 'correct horse battery staple');
 * await client.connect();
 * const { message, acked } = client.send(channelId, 'hello');
 * ```
 */
export class ChatClient {
  /** The typed HTTP API client, for endpoints the facade does not wrap. */
  readonly http: HttpClient;
  private readonly events: Emitter<ChatClientEvents>;
  private readonly store: ResilientStore;
  private readonly cache: ChatCache;
  private readonly auth: Auth;
  private readonly connection: Connection;
  private readonly placement: Placement | undefined;
  private readonly sync: SyncEngine;
  private readonly outbox: Outbox;
  private readonly realtime: Realtime;
  private readonly actions: MessageActions;
  private readonly moderation: ModerationActions;
  private readonly now: () => number;
  private device: string | undefined;
  private user: string | undefined;
  private opens = 0;
  /** Where the client is in its life, as one union (see {@link Lifecycle}). */
  private lifecycle: Lifecycle;
  /** Channel pages from the server or the cache, as this device reads them. */
  private readonly channels: ChannelHistory;
  /** Uploads and downloads; `close()` interrupts the uploads in flight. */
  private readonly media: ClientMedia;
  /** Fetches the channels the user joins. */
  private readonly joined: JoinedChannels;
  /** End-to-end encryption of this device (with the `e2ee` option). */
  private readonly encryption: ClientEncryption | undefined;
  constructor(options: ChatClientOptions) {
    const now = options.now ?? Date.now;
    this.now = now;
    this.events = new Emitter<ChatClientEvents>((err, event) => {
      // A throwing listener becomes an 'error' event; a throwing 'error' listener is dropped (no loop).
      if (event !== 'error') queueMicrotask(() => this.events.emit('error', toError(err)));
    });
    const onError = (err: Error) => this.events.emit('error', err);
    const { httpUrl, wsUrl } = endpoints(options.url, options.wsUrl);
    this.http = new HttpClient({ baseUrl: httpUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.store = new ResilientStore(options.store ?? new MemoryStore(), (e) =>
      this.events.emit('storage-error', e),
    );
    this.cache = new ChatCache(this.store, () => this.user, {
      onJoined: (channelIds) => this.joined.fetch(channelIds),
      onChannelAdded: (channel, reason) => this.events.emit('channel', { channel, reason }),
    });
    this.joined = new JoinedChannels({
      http: this.http,
      cache: this.cache,
      isClosing: () => this.isClosing(),
      onError: (err) => this.events.emit('error', err),
    });
    this.device = options.deviceId;
    this.user = options.session?.user.id;
    this.auth = new Auth({
      http: this.http,
      ...(options.getToken ? { getToken: options.getToken } : {}),
      ...(options.session ? { session: options.session } : {}),
      ...(options.loadSession ? { loadSession: options.loadSession } : {}),
      now,
      onSession: (session) => {
        if (session) this.adoptSession(session);
        this.events.emit('session', session);
      },
    });
    this.http.accessToken = (refresh) => this.auth.token({ refresh });

    const discoveryUrl =
      options.discovery === true ? `${httpUrl}/v1/discovery` : options.discovery || undefined;
    this.placement = discoveryUrl ? createPlacement(discoveryUrl, wsUrl, options, now) : undefined;
    this.connection = new Connection({
      wsUrl,
      ...(this.placement ? { placement: this.placement } : {}),
      getToken: (request) => this.auth.token(request),
      deviceId: () => this.device,
      WebSocket: webSocketConstructor(options.WebSocket),
      codec: typeof options.codec === 'object' ? options.codec : getCodec(options.codec ?? 'msgpack'),
      backoff: typeof options.backoff === 'function' ? options.backoff : createBackoff(options.backoff),
      ...(options.heartbeatIntervalMs !== undefined
        ? { heartbeatIntervalMs: options.heartbeatIntervalMs }
        : {}),
      pongTimeoutMs: options.pongTimeoutMs ?? 10_000,
      probeTimeoutMs: options.probeTimeoutMs ?? 3_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      tokenInHeader: options.tokenInHeader ?? false,
      now,
    });
    const request = this.connection.request.bind(this.connection);
    // Sends and sync requests retry on their own schedule, with the jitter source the app injected.
    const retryDelay = createRetryDelay(
      typeof options.backoff === 'object' ? options.backoff.random : undefined,
    );
    this.moderation = new ModerationActions(this.http);
    this.sync = new SyncEngine({
      request,
      cache: this.cache,
      deliver: (entries, source) => {
        const added: MessageEntry[] = [];
        for (const entry of entries) {
          if (this.encryption && isEncryptedEntry(entry)) {
            this.encryption.onEntry(entry, source);
            continue;
          }
          if (this.actions.emitEntry(entry, source)) continue;
          if (entry.kind !== 'message') continue;
          added.push(entry);
          this.outbox.onEntry(entry);
          this.events.emit('message', { message: entry.message, pos: entry.pos, source });
        }
        this.realtime.onDelivered(added);
      },
      onResync: (event) => this.events.emit('resync', event),
      onError,
      retryDelay,
      ...(options.syncPageSize !== undefined ? { pageSize: options.syncPageSize } : {}),
    });
    this.outbox = new Outbox({
      store: this.store,
      request,
      isOpen: () => this.connection.status === 'open',
      userId: () => this.user,
      limits: () => this.connection.limits,
      now,
      retryDelay,
      leaseMs: options.outboxLeaseMs ?? 20_000,
      ackTimeoutMs: options.requestTimeoutMs ?? 15_000,
      isLive: () => this.connection.status === 'open' && this.sync.status === 'live',
      upload: (file) =>
        this.media.upload(fromBase64(file.dataBase64), {
          filename: file.filename,
          contentType: file.contentType,
          ...(file.resumableChunkBytes !== undefined
            ? { resumableChunkBytes: file.resumableChunkBytes }
            : {}),
        }),
      sendEncrypted: (item, persist) => {
        if (!this.encryption) throw new NatterError(ErrorCode.BAD_REQUEST, 'needs the `e2ee` option');
        return this.encryption.sendOutboxItem(item, persist);
      },
      findSent: async (channelId, clientMsgId) =>
        (await this.cache.getMessages(channelId, { limit: DEFAULT_CACHE_LIMITS.maxMessagesPerChannel })).find(
          (m) => m.clientMsgId === clientMsgId && m.senderId === this.user,
        )?.seq,
      onStatus: (event) => this.events.emit('outbox', event),
      onChange: (event) => this.events.emit('mutation', event),
      onAck: (event) => this.events.emit('ack', event),
      onError,
    });
    this.actions = new MessageActions(this.connection, this.events, this.outbox);
    this.realtime = new Realtime({
      request,
      notify: (frame) => this.connection.notify(frame),
      isOpen: () => this.connection.status === 'open',
      userId: () => this.user,
      http: this.http,
      cache: this.cache,
      deliveryReceipts: options.deliveryReceipts ?? true,
      onTyping: (event) => this.events.emit('typing', event),
      onPresence: (user) => this.events.emit('presence', user),
      onReceipt: (event) => this.events.emit('receipt', event),
      onError,
    });
    this.media = new ClientMedia({
      http: this.http,
      store: this.store,
      now,
      userId: () => this.user,
      ready: () => this.ready,
    });
    const e2ee = options.e2ee === true ? {} : options.e2ee || undefined;
    this.encryption = e2ee
      ? new ClientEncryption({
          http: this.http,
          store: this.store,
          cache: this.cache,
          events: this.events,
          me: () => this.user,
          onError,
          ...(e2ee.keyPackageTarget !== undefined ? { keyPackageTarget: e2ee.keyPackageTarget } : {}),
        })
      : undefined;
    this.channels = new ChannelHistory({
      connection: this.connection,
      http: this.http,
      cache: this.cache,
      outbox: this.outbox,
      actions: this.actions,
      encryption: this.encryption,
      userId: () => this.user,
      ready: () => this.ready,
    });
    this.wire();
    this.lifecycle = { status: 'loading', loaded: this.load(), generation: 0 };
  }

  /** Resolves once local data is loaded (after construction, or after a `close()`, on the next `connect()`). */
  private get ready(): Promise<void> {
    const { lifecycle } = this;
    switch (lifecycle.status) {
      case 'loading':
        return lifecycle.loaded;
      case 'closing':
        return lifecycle.done;
      default:
        return Promise.resolve();
    }
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof ChatClientEvents>(
    event: K,
    listener: (payload: ChatClientEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof ChatClientEvents>(
    event: K,
    listener: (payload: ChatClientEvents[K]) => void,
  ): () => void {
    return this.events.once(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof ChatClientEvents>(event: K, listener: (payload: ChatClientEvents[K]) => void): void {
    this.events.off(event, listener);
  }

  /** The connection's status. */
  get status(): ConnectionStatus {
    return this.connection.status;
  }

  /**
   * The chat node placement chose last (with `discovery`): its id, URL, region, announced fullness and the
   * measured round trip, if any. While `status` is `open`, the node the session is on.
   */
  get node(): PlacedNode | undefined {
    return this.placement?.current;
  }

  /** The signed-in user's id, once known (login, saved session or the server's `hello`). */
  get userId(): string | undefined {
    return this.user;
  }

  /** This device's id, once known. */
  get deviceId(): string | undefined {
    return this.device;
  }

  /** The built-in session, when logged in with `login`/`signup` or resumed with the `session` option. */
  get session(): Session | undefined {
    return this.auth.session;
  }

  /** Limits announced by the server (the protocol defaults before the first connection). */
  get limits(): ProtocolLimits {
    return this.connection.limits;
  }

  /** Logs in with natter's built-in accounts. Call `connect()` afterwards. */
  async login(username: string, password: string): Promise<UserProfile> {
    await this.ready;
    const session = await this.http.login({
      username,
      password,
      ...(this.device ? { deviceId: this.device } : {}),
    });
    this.auth.setSession(session);
    return session.user;
  }

  /** Creates an account and logs in. */
  async signup(username: string, password: string, displayName?: string): Promise<UserProfile> {
    await this.ready;
    const session = await this.http.signup({
      username,
      password,
      ...(displayName !== undefined ? { displayName } : {}),
      ...(this.device ? { deviceId: this.device } : {}),
    });
    this.auth.setSession(session);
    return session.user;
  }

  /**
   * Hands the client a newer session of the same user, obtained elsewhere: typically another tab's refresh,
   * shared through localStorage or a BroadcastChannel (see "Several tabs" in docs/client.md). Refresh tokens
   * are one-time, so a client must not refresh with a token another client already used. Returns false, and
   * changes nothing, when the session is not newer than the current one (an echo, or out of order). Emits no
   * `session` event. After the session had ended (status `closed`, reason `unauthorized`) call `connect()`.
   * @throws NatterError NATTER_BAD_REQUEST for a session of another user (create a new client for that).
   */
  setSession(session: Session): boolean {
    if (!this.auth.adopt(session)) return false;
    this.adoptSession(session);
    return true;
  }

  /**
   * Changes the password. Every session of the user ends (other devices are disconnected and must log in
   * again); this client continues with the new session it gets back, which emits a `session` event.
   * @throws NatterError NATTER_INVALID_CREDENTIALS (wrong current password), NATTER_WEAK_PASSWORD.
   */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    const session = await this.http.changePassword({ currentPassword, newPassword });
    this.auth.setSession(session);
  }

  /** Logs out on the server, closes the client and ends the session. Local data stays. */
  async logout(allDevices = false): Promise<void> {
    try {
      await this.http.logout(allDevices);
    } finally {
      await this.close();
      this.auth.setSession(undefined);
    }
  }

  /**
   * Starts connecting (and reconnecting until `close()`); resolves once local data is loaded. After a
   * `close()` it reopens the store first, and messages sent meanwhile leave as soon as the connection opens.
   */
  async connect(): Promise<void> {
    let { lifecycle } = this;
    if (lifecycle.status === 'connected') return;
    if (lifecycle.status === 'closing') await lifecycle.done;
    lifecycle = this.lifecycle;
    if (lifecycle.status === 'closed') {
      const generation = lifecycle.generation + 1;
      this.lifecycle = lifecycle = { status: 'loading', loaded: this.reload(), generation };
    }
    if (lifecycle.status === 'loading') {
      const { generation } = lifecycle;
      await lifecycle.loaded;
      // close() ran while local data was loading: this connect() is stale and must not reopen the client.
      if (this.lifecycle.status !== 'loading' || this.lifecycle.generation !== generation) return;
      lifecycle = this.lifecycle = { status: 'ready', generation };
    }
    if (lifecycle.status !== 'ready') return;
    this.outbox.start();
    this.lifecycle = {
      status: 'connected',
      generation: lifecycle.generation,
      removePageHide: listenForPageHide(() => void this.outbox.releaseLeases()),
    };
    this.connection.connect();
  }

  /** Resolves when the connection is open and every entry up to the server's head has been emitted. */
  async whenSynced(): Promise<void> {
    await this.ready;
    if (this.connection.status !== 'open') {
      await new Promise<void>((resolve) => {
        const off = this.events.on('state', ({ status }) => {
          if (status !== 'open') return;
          off();
          resolve();
        });
      });
    }
    await this.sync.whenLive();
  }

  /**
   * Closes the connection, stops sending and closes the store. Pending messages stay in the store for the
   * next run; their `acked` promises reject with `NATTER_CLIENT_CLOSED`.
   */
  async close(): Promise<void> {
    const previous = this.lifecycle;
    if (previous.status === 'closed') return;
    if (previous.status === 'closing') return previous.done;
    const done = (async () => {
      if (previous.status === 'connected') previous.removePageHide?.();
      this.outbox.stop();
      this.media.interrupt();
      this.realtime.close();
      this.connection.close();
      if (previous.status === 'loading') await previous.loaded;
      await this.sync.idle();
      await this.outbox.close();
      await this.store.close();
    })();
    this.lifecycle = { status: 'closing', done, generation: previous.generation };
    try {
      await done;
    } finally {
      this.lifecycle = { status: 'closed', generation: previous.generation };
    }
  }

  /**
   * Sends a text message: returns at once with the pending message and a promise that settles on the
   * server's ack. The message is persisted before it is sent and resent until acknowledged.
   * @throws NatterError NATTER_BAD_REQUEST or NATTER_MESSAGE_TOO_LARGE for input that can never be sent.
   */
  send(channelId: string, text: string, options: SendOptions = {}): SendHandle {
    const { mentions, attachments: uploads, ...refs } = options;
    if (this.isEncrypted(channelId)) return this.outbox.send(channelId, text, mentions, [], refs, {});
    const attachments: OutboxAttachment[] = (uploads ?? []).map((a) => ({ mediaId: a.mediaId }));
    return this.outbox.send(channelId, text, mentions, attachments, refs);
  }

  /**
   * Sends files with a message (the text may be empty), uploading them first. The files are kept in the
   * client store with the outbox entry, so a message written offline is uploaded and sent when the
   * connection is back, exactly once (uploads are idempotent by content, sends by `clientMsgId`). With
   * `resumableChunkBytes` the files go over tus, and an upload cut short by a restart resumes from the
   * server's offset in the next client instance on the same store.
   */
  async sendFiles(
    channelId: string,
    text: string,
    files: ReadonlyArray<{ data: UploadData; filename?: string; contentType?: string }>,
    options: { mentions?: readonly string[]; resumableChunkBytes?: number } = {},
  ): Promise<SendHandle> {
    const attachments = await this.media.attachmentsOf(files, options.resumableChunkBytes);
    return this.outbox.send(channelId, text, options.mentions, attachments);
  }

  /**
   * Uploads a file (`File`, `Blob` or bytes) with progress, before sending it with
   * `send(channelId, text, { attachments: [{ mediaId: media.id }] })`.
   */
  upload(data: UploadData, options: UploadOptions = {}): Promise<MediaBody> {
    return this.media.upload(data, options);
  }

  /**
   * Sends files in an end-to-end encrypted channel: each is encrypted on this device with a fresh key and
   * uploaded as opaque bytes; the keys, names, types and sender-made thumbnails travel inside the encrypted
   * message (`event.encrypted.payload.attachments`; open one with `downloadEncrypted`).
   */
  async sendEncryptedFiles(
    channelId: string,
    text: string,
    files: readonly EncryptedFileInput[],
    options: { mentions?: readonly string[] } = {},
  ): Promise<SendHandle> {
    const refs = await this.media.uploadEncrypted(files);
    return this.outbox.send(channelId, text, options.mentions, [], {}, { attachments: refs });
  }

  /** Downloads and decrypts an encrypted attachment (throws `EncryptedFileError` with a `reason`). */
  downloadEncrypted(ref: EncryptedFileRef): Promise<Uint8Array> {
    return this.media.downloadEncrypted(ref);
  }

  /** A short-lived signed URL of an upload or a thumbnail, for `<img src>` (no access token in it). */
  mediaUrl(mediaId: string, options: { thumbnailSize?: number; ttlMs?: number } = {}): Promise<string> {
    return this.http.mediaUrl(mediaId, options);
  }

  /** Sends a failed message again. @throws NatterError NATTER_NOT_FOUND when it is not in the outbox. */
  retry(clientMsgId: string): SendHandle {
    return this.outbox.retry(clientMsgId);
  }

  /**
   * Removes a pending or failed message (by `clientMsgId`, with the changes waiting for it) or change (by
   * `clientId`) from the outbox; false when it was not there.
   */
  discard(clientMsgId: string): Promise<boolean> {
    return this.outbox.discard(clientMsgId);
  }

  /** This user's messages waiting or failed in the outbox, in sending order. */
  pending(): PendingMessage[] {
    return this.outbox.list();
  }

  /** The channel list from the server (also refreshes the cache). */
  async listChannels(): Promise<ChannelSummary[]> {
    const channels = await this.http.listChannels();
    await this.cache.replaceChannels(channels);
    return channels;
  }

  /** The cached channel list, most recently active first; works offline. */
  async cachedChannels(): Promise<CachedChannel[]> {
    await this.ready;
    return this.cache.listChannels();
  }

  /** One channel from the server. */
  async getChannel(channelId: string): Promise<Channel> {
    return this.remember(await this.http.getChannel(channelId));
  }

  /**
   * Opens (creating on first use) the direct channel with `userId`. With `encrypted: true`, the pair's end-to-end
   * encrypted channel (a separate one), whose MLS group this device makes on first use (needs the `e2ee` option).
   */
  async openDirect(userId: string, options: { encrypted?: boolean } = {}): Promise<Channel> {
    if (!options.encrypted) return this.remember(await this.http.openDirect(userId));
    const e2ee = await this.e2ee();
    const { channel } = await this.http.call('openDirect', { body: { userId, encrypted: true } });
    await e2ee.establish(channel);
    return this.remember(channel);
  }

  /**
   * Creates a group with the caller as admin. With `encrypted: true` it is end-to-end encrypted (MLS): this
   * device makes the group and adds every published device of the members (needs the `e2ee` option).
   */
  async createGroup(
    name: string,
    memberIds: readonly string[],
    options: { encrypted?: boolean } = {},
  ): Promise<Channel> {
    if (!options.encrypted) return this.remember(await this.http.createGroup(name, memberIds));
    const e2ee = await this.e2ee();
    const { channel } = await this.http.call('createGroup', {
      body: { name, memberIds: [...memberIds], encrypted: true },
    });
    await e2ee.establish(channel);
    return this.remember(channel);
  }

  /**
   * End-to-end encryption of this device, once connected (the `e2ee` option): its engine (identity,
   * fingerprints), device revocation, external joins. docs/e2ee.md, "The SDK".
   * @throws NatterError NATTER_BAD_REQUEST without the `e2ee` option.
   */
  async e2ee(): Promise<EncryptedChannels> {
    if (!this.encryption)
      throw new NatterError(ErrorCode.BAD_REQUEST, 'end-to-end encryption needs the `e2ee` option');
    return this.encryption.ready();
  }

  /** Renames a group. */
  async renameGroup(channelId: string, name: string): Promise<Channel> {
    return this.remember(await this.http.renameGroup(channelId, name));
  }

  /** Adds members to a group; in an encrypted group this device then commits adding their devices. */
  async addMembers(channelId: string, userIds: readonly string[]): Promise<Channel> {
    const channel = await this.http.addMembers(channelId, userIds);
    if (channel.encrypted) await (await this.e2ee()).addUsers(channelId, userIds);
    return this.remember(channel);
  }

  /**
   * Removes a member from a group (admins only); in an encrypted group this device then commits removing
   * their devices, so they read nothing sent after it.
   */
  async removeMember(channelId: string, userId: string): Promise<void> {
    await this.http.removeMember(channelId, userId);
    if (this.isEncrypted(channelId)) await (await this.e2ee()).removeUser(channelId, userId);
  }

  /** Leaves a group. */
  leaveGroup(channelId: string): Promise<void> {
    return this.http.leaveGroup(channelId);
  }

  /** Blocks a user: their 1-1 messages are refused, and neither sees the other's presence or typing. */
  block(userId: string): Promise<void> {
    return this.moderation.block(userId);
  }

  /** Lifts a block. */
  unblock(userId: string): Promise<void> {
    return this.moderation.unblock(userId);
  }

  /** The users this user blocked, oldest first. */
  blocks(): Promise<Block[]> {
    return this.moderation.blocks();
  }

  /** Reports a message or a user to the app's moderators (`reason` from a fixed list, `note` free text). */
  report(target: ReportTarget, reason: ReportReason, note?: string): Promise<Report> {
    return this.moderation.report(target, reason, note);
  }

  /** Bans a user from a group (admins): removed, and not re-addable until `unban`. */
  ban(channelId: string, userId: string): Promise<void> {
    return this.moderation.ban(channelId, userId);
  }

  /** Lifts a ban (admins); the user is not added back. */
  unban(channelId: string, userId: string): Promise<void> {
    return this.moderation.unban(channelId, userId);
  }

  /** A group's bans (admins). */
  bans(channelId: string): Promise<Ban[]> {
    return this.moderation.bans(channelId);
  }

  /** Sets a group's slow mode (admins): one message per `seconds` per member; 0 turns it off. */
  async setSlowMode(channelId: string, seconds: number): Promise<Channel> {
    return this.remember(await this.moderation.setSlowMode(channelId, seconds));
  }

  /**
   * A page of a channel's history from the server (over the socket when open, else HTTP), added to the cache.
   * When the server cannot be reached, answers from the cache (`source: 'cache'`).
   */
  history(channelId: string, query: HistoryQuery = {}): Promise<HistoryResult> {
    return this.channels.page(channelId, query);
  }

  /**
   * Edits the text (and mentions) of one of the user's messages, by `seq` or, for a message still in the
   * outbox, by its `clientMsgId`; other devices get `messageEdited`. Like every change it goes through the
   * durable outbox: made offline, it is applied when the connection is back, after the send it refers to.
   * Settles with the server's answer (see {@link MutationResult}); rejects with its typed error.
   */
  edit(
    channelId: string,
    target: number | string,
    text: string,
    options: { mentions?: readonly string[] } = {},
  ): Promise<MutationResult> {
    if (this.isEncrypted(channelId))
      return this.changeEncrypted(channelId, target, (t) => ({ t: 'edit', target: t, text }));
    return this.actions.edit(channelId, target, text, options.mentions);
  }

  /**
   * Deletes a message for everyone (the user's own, or any as a group admin). A message whose send has not
   * left the outbox is not sent at all (settles with `{ entry: null }`).
   */
  delete(channelId: string, target: number | string): Promise<MutationResult> {
    if (this.isEncrypted(channelId))
      return this.changeEncrypted(channelId, target, (t) => ({ t: 'delete', target: t }));
    return this.actions.delete(channelId, target);
  }

  /** Adds (`add`, the default) or removes the user's reaction with `emoji`; through the outbox. */
  react(channelId: string, target: number | string, emoji: string, add = true): Promise<MutationResult> {
    if (this.isEncrypted(channelId))
      return this.changeEncrypted(channelId, target, (t) => ({ t: 'react', target: t, emoji, add }));
    return this.actions.react(channelId, target, emoji, add);
  }

  private isEncrypted(channelId: string): boolean {
    return this.encryption?.isEncrypted(channelId) ?? false;
  }

  private changeEncrypted(
    channelId: string,
    target: number | string,
    make: Parameters<ClientEncryption['change']>[2],
  ): Promise<MutationResult> {
    return this.encryption!.change(channelId, target, make);
  }

  /** This user's edits, deletes and reactions waiting or failed in the outbox, in sending order. */
  pendingChanges(): PendingChange[] {
    return this.outbox.changes();
  }

  /** Sends a failed change again. Rejects with NATTER_NOT_FOUND when it is not in the outbox. */
  retryChange(clientId: string): Promise<MutationResult> {
    return this.outbox.retryChange(clientId);
  }

  /** Who reacted to a message with `emoji`, paged by user id. */
  reactors(channelId: string, seq: number, emoji: string, page?: { after?: string; limit?: number }) {
    return this.actions.reactors(channelId, seq, emoji, page);
  }

  /** A page of a thread's replies (newest page without an anchor). Needs the connection. */
  threadHistory(
    channelId: string,
    rootSeq: number,
    query: { before?: number; after?: number; around?: number; limit?: number } = {},
  ): Promise<HistoryPage> {
    return this.channels.thread(channelId, rootSeq, query);
  }

  /**
   * Cached messages of a channel, ascending by `seq`: what to show before the server answers. The user's
   * pending changes are applied (see docs/client.md, "Offline changes").
   */
  cachedMessages(channelId: string, query?: CachedMessagesQuery): Promise<Message[]> {
    return this.channels.cached(channelId, query);
  }

  /** Says the user is typing in a channel (throttled), or stopped with `active: false`. */
  setTyping(channelId: string, active = true): void {
    this.realtime.setTyping(channelId, active, this.now());
  }

  /** Marks a channel read up to `seq` on all the user's devices; returns the marker and the unread count. */
  markRead(channelId: string, seq: number): Promise<{ readSeq: number; unread: number }> {
    return this.realtime.markRead(channelId, seq);
  }

  /** Every member's read and delivery markers in a channel. */
  receipts(channelId: string): Promise<MemberReceipt[]> {
    return this.http.receipts(channelId);
  }

  /** Presence of some users, or of a channel's members. */
  getPresence(query: { userIds: readonly string[] } | { channelId: string }): Promise<PresenceInfo[]> {
    return this.realtime.getPresence(query);
  }

  /** Sets the user's chosen status (`online`, `away`, `invisible`); kept across reconnects. */
  setStatus(status: ChosenStatus): Promise<void> {
    return this.realtime.setStatus(status);
  }

  /** Messages that mention the user, newest first. */
  mentions(query?: MessageQuery): Promise<Message[]> {
    return this.http.mentions(query);
  }

  /** Full-text search in the user's channels, newest first. */
  search(text: string, query?: MessageQuery): Promise<Message[]> {
    return this.http.search(text, query);
  }

  /** The caller's profile. */
  me(): Promise<UserProfile> {
    return this.http.me();
  }

  /** Updates the caller's display name. */
  updateProfile(input: { displayName: string }): Promise<UserProfile> {
    return this.http.updateProfile(input);
  }

  /** Users whose username starts with `prefix`. */
  searchUsers(prefix: string, limit?: number): Promise<UserProfile[]> {
    return this.http.searchUsers(prefix, limit);
  }

  /** Counters for monitoring and tests. */
  stats(): ClientStats {
    const s = this.sync.stats;
    return {
      gapsFilled: s.gapsFilled,
      gapsDetected: s.gapsDetected,
      resyncs: s.resyncs,
      syncPagesRejected: s.pagesRejected,
      unknownEntriesSkipped: s.unknownSkipped,
      outboxDepth: this.outbox.depth,
      retries: this.outbox.retries,
      reconnects: Math.max(0, this.opens - 1),
      duplicatesDropped: s.duplicatesDropped,
      storage: this.store.degradation,
    };
  }

  /** The device's sync cursor: the highest position emitted and its epoch. */
  cursor(): SyncCursor {
    return this.sync.cursor;
  }

  private wire(): void {
    const c = this.connection;
    c.on('state', (change) => this.events.emit('state', change));
    c.on('open', (hello) => {
      this.opens++;
      this.user = hello.userId;
      if (this.device !== hello.deviceId) {
        this.device = hello.deviceId;
        void this.store.setMeta(META_DEVICE, hello.deviceId);
      }
      // Before sync: the engine is opened first, so entries are read with it, in order.
      this.encryption?.onOpen(hello.userId, hello.deviceId);
      this.sync.onOpen(hello);
      this.outbox.onOpen();
      this.realtime.onOpen();
      // Joined channels whose fetch failed (offline) are fetched again.
      const joining = this.cache.joiningIds();
      if (joining.length > 0) this.joined.fetch(joining);
    });
    c.on('entry', (entry) => this.sync.onLive(entry));
    c.on('frame', (frame) => this.realtime.onFrame(frame));
    c.on('down', () => this.sync.onDown());
    c.on('error', (err) => this.events.emit('error', err));
  }

  /** Opens the store and loads local data; a failure is reported and the client runs on what it has. */
  private async load(): Promise<void> {
    try {
      await this.store.open();
      const stored = await this.store.getMeta(META_DEVICE);
      this.device ??= stored ?? newPrefixedId('dev', this.now());
      if (stored !== this.device) await this.store.setMeta(META_DEVICE, this.device);
      await this.cache.load();
      await this.sync.load();
      await this.outbox.load();
    } catch (err) {
      this.events.emit('error', toError(err));
    }
  }

  /** After a `close()`: reopens the store and reloads what the closed period may have changed. */
  private async reload(): Promise<void> {
    try {
      await this.store.open();
      await this.cache.load();
      await this.sync.load();
    } catch (err) {
      this.events.emit('error', toError(err));
    }
  }

  private adoptSession(session: Session): void {
    this.user = session.user.id;
    if (session.deviceId && session.deviceId !== this.device) {
      this.device = session.deviceId;
      void this.store.setMeta(META_DEVICE, session.deviceId);
    }
  }

  private isClosing(): boolean {
    return this.lifecycle.status === 'closing' || this.lifecycle.status === 'closed';
  }

  private async remember(channel: Channel): Promise<Channel> {
    await this.cache.putChannel(channel);
    return channel;
  }
}

export { endpoints } from './client-setup.js';
