/**
 * The signed-in app: turns `ChatClient` events into {@link AppState} and user actions into SDK calls. Views
 * read the state and call these methods; nothing else talks to the SDK.
 */
import {
  type CachedChannel,
  type ChatClient,
  isNatterError,
  type Message,
  type PendingMessage,
  type Session,
  type UserProfile,
} from '@natter/client';
import { forgetSession, leaveAccount } from './accounts.js';
import { findMentions } from './format.js';
import { addLive, mergePage, type PageKind, windowBounds } from './history-window.js';
import { type AppState, emptyWindow } from './state.js';
import { UserDirectory } from './users.js';

const PAGE = 50;

/** A readable sentence for an error of a user action. */
export function describeError(err: unknown): string {
  const code = isNatterError(err) ? err.code : (err as { code?: string } | undefined)?.code;
  switch (code) {
    case 'NATTER_GROUP_FULL':
      return 'That would make the group larger than its member limit.';
    case 'NATTER_FORBIDDEN':
      return 'You are not allowed to do that (only group admins can remove members).';
    case 'NATTER_NOT_FOUND':
      return 'Not found, or you are no longer a member.';
    case 'NATTER_UNAVAILABLE':
      return 'The server cannot be reached right now. Try again when you are back online.';
    case 'NATTER_MESSAGE_TOO_LARGE':
      return 'That message is too long.';
    case 'NATTER_RATE_LIMITED':
      return 'Slow down a little and try again.';
    default:
      return err instanceof Error ? err.message : 'Something went wrong.';
  }
}

/** The signed-in app's logic. */
export class ChatController {
  readonly state: AppState;
  readonly users: UserDirectory;
  private readonly listeners = new Set<() => void>();
  private renderQueued = false;
  private channelsQueued = false;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly readSent = new Map<string, number>();
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly client: ChatClient,
    readonly session: Session,
    /** Called when this tab leaves the account (logout, switch, or the session ended). */
    private readonly onLeave: () => void,
  ) {
    this.users = new UserDirectory(
      session.user.username,
      (id) => client.http.getUser(id),
      () => this.changed(),
    );
    this.users.put(session.user);
    this.state = {
      me: session.user,
      connection: client.status,
      networkOnline: navigator.onLine,
      reconnectAt: undefined,
      everOpen: false,
      ended: undefined,
      channels: [],
      users: this.users.all,
      presence: new Map(),
      typing: new Map(),
      receipts: new Map(),
      windows: new Map(),
      pending: new Map(),
      activeId: undefined,
      panel: { kind: 'none' },
      jump: undefined,
      notice: undefined,
      limits: client.limits,
      myStatus: 'online',
    };
  }

  /** Subscribes to state changes (coalesced to one call per microtask). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Marks the state changed. */
  changed(): void {
    if (this.renderQueued || this.closed) return;
    this.renderQueued = true;
    queueMicrotask(() => {
      this.renderQueued = false;
      for (const listener of this.listeners) listener();
    });
  }

  /** Wires the SDK's events, shows what the local store has, and starts connecting. */
  async start(): Promise<void> {
    const c = this.client;
    const s = this.state;
    this.unsubscribe.push(
      c.on('state', (change) => {
        s.connection = change.status;
        s.reconnectAt =
          change.status === 'reconnecting' && change.delayMs !== undefined
            ? Date.now() + change.delayMs
            : undefined;
        if (change.status === 'open') this.onOpen();
        if (change.status === 'closed' && (change.reason === 'revoked' || change.reason === 'unauthorized'))
          this.end('Your session ended (you logged out elsewhere or it expired). Please sign in again.');
        this.changed();
      }),
      c.on('message', ({ message }) => this.onMessage(message)),
      c.on('outbox', ({ message, status, error }) => {
        // A conversation the user lost access to is not shown: say so instead of failing silently.
        if (status === 'failed' && !s.channels.some((ch) => ch.id === message.channelId)) {
          this.notify(`“${message.text.slice(0, 40)}” was not sent: ${describeError(error)}`);
          void c.discard(message.clientMsgId);
        }
        if (status === 'sent' || status === 'discarded') s.pending.delete(message.clientMsgId);
        else
          s.pending.set(message.clientMsgId, {
            ...message,
            status,
            ...(error ? { error: { code: error.code ?? 'NATTER_INTERNAL', message: error.message } } : {}),
          });
        this.changed();
      }),
      c.on('typing', (event) => {
        if (event.userId === s.me.id) return;
        const inChannel = s.typing.get(event.channelId) ?? new Map<string, number>();
        if (event.active) inChannel.set(event.userId, Date.now() + event.expiresInMs);
        else inChannel.delete(event.userId);
        s.typing.set(event.channelId, inChannel);
        this.users.ensure([event.userId]);
        this.scheduleTypingExpiry();
        this.changed();
      }),
      c.on('presence', (info) => {
        s.presence.set(info.userId, info);
        this.changed();
      }),
      c.on('receipt', (event) => {
        const markers = s.receipts.get(event.channelId) ?? new Map();
        markers.set(event.userId, {
          userId: event.userId,
          readSeq: event.readSeq,
          deliveredSeq: event.deliveredSeq,
        });
        s.receipts.set(event.channelId, markers);
        if (event.userId === s.me.id) this.refreshChannelsFromCache();
        this.changed();
      }),
      c.on('resync', () => {
        s.windows.clear();
        void this.refreshChannels();
        if (s.activeId) void this.loadLatest(s.activeId);
      }),
      c.on('error', (err) => console.warn('[natter]', err)),
    );
    const online = () => {
      s.networkOnline = navigator.onLine;
      this.changed();
    };
    window.addEventListener('online', online);
    window.addEventListener('offline', online);
    this.unsubscribe.push(() => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', online);
    });
    await c.connect();
    s.limits = c.limits;
    for (const message of c.pending()) s.pending.set(message.clientMsgId, message);
    s.channels = await c.cachedChannels();
    this.users.ensure(s.channels.flatMap((ch) => ch.memberIds));
    this.changed();
  }

  /** Stops the client (it keeps its local data). */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    clearTimeout(this.typingTimer);
    clearTimeout(this.noticeTimer);
    await this.client.close();
  }

  // ---- connection and sync ------------------------------------------------------------------------------

  private onOpen(): void {
    const s = this.state;
    s.everOpen = true;
    s.limits = this.client.limits;
    void this.refreshChannels().then(() => this.refreshPresence());
    if (s.activeId) {
      const win = s.windows.get(s.activeId);
      if (!win?.fromServer) void this.loadLatest(s.activeId);
      void this.refreshReceipts(s.activeId);
      this.markReadIfViewing();
    }
  }

  private onMessage(message: Message): void {
    const s = this.state;
    const win = s.windows.get(message.channelId);
    if (win && !addLive(win, message)) void this.loadNewer(message.channelId);
    s.typing.get(message.channelId)?.delete(message.senderId);
    const system = message.system;
    const mentioned =
      system?.action === 'members_added'
        ? system.memberIds
        : system?.action === 'member_removed'
          ? [system.memberId]
          : [];
    this.users.ensure([message.senderId, ...mentioned]);
    if (!s.channels.some((ch) => ch.id === message.channelId)) void this.refreshChannels();
    else this.refreshChannelsFromCache();
    if (message.channelId === s.activeId) this.markReadIfViewing();
    this.changed();
  }

  /** Reloads the channel list from the server (the cache follows). */
  async refreshChannels(): Promise<void> {
    try {
      await this.client.listChannels();
    } catch {
      // Offline: the cached list stays.
    }
    await this.refreshChannelsFromCacheNow();
  }

  private refreshChannelsFromCache(): void {
    if (this.channelsQueued) return;
    this.channelsQueued = true;
    queueMicrotask(() => {
      this.channelsQueued = false;
      void this.refreshChannelsFromCacheNow();
    });
  }

  private async refreshChannelsFromCacheNow(): Promise<void> {
    const s = this.state;
    s.channels = await this.client.cachedChannels();
    this.users.ensure(s.channels.flatMap((ch) => ch.memberIds));
    if (s.activeId && !s.channels.some((ch) => ch.id === s.activeId)) {
      // Removed from the group, or left it on another device.
      s.activeId = undefined;
      s.panel = { kind: 'none' };
    }
    this.changed();
  }

  private async refreshPresence(): Promise<void> {
    const s = this.state;
    const ids = [...new Set(s.channels.flatMap((ch) => ch.memberIds))].filter((id) => id !== s.me.id);
    if (ids.length === 0) return;
    try {
      for (const info of await this.client.getPresence({ userIds: ids.slice(0, 200) }))
        s.presence.set(info.userId, info);
      this.changed();
    } catch {
      // Presence is a nicety; it arrives with the next change.
    }
  }

  private async refreshReceipts(channelId: string): Promise<void> {
    try {
      const receipts = await this.client.receipts(channelId);
      this.state.receipts.set(channelId, new Map(receipts.map((r) => [r.userId, r])));
      this.changed();
    } catch {
      // Offline; receipts arrive with the next change.
    }
  }

  private scheduleTypingExpiry(): void {
    clearTimeout(this.typingTimer);
    let next = Number.POSITIVE_INFINITY;
    for (const inChannel of this.state.typing.values())
      for (const until of inChannel.values()) next = Math.min(next, until);
    if (!Number.isFinite(next)) return;
    this.typingTimer = setTimeout(
      () => {
        const now = Date.now();
        for (const inChannel of this.state.typing.values())
          for (const [userId, until] of inChannel) if (until <= now) inChannel.delete(userId);
        this.scheduleTypingExpiry();
        this.changed();
      },
      Math.max(50, next - Date.now()),
    );
  }

  // ---- channels and history -----------------------------------------------------------------------------

  /** The active channel. */
  get active(): CachedChannel | undefined {
    return this.state.channels.find((ch) => ch.id === this.state.activeId);
  }

  /** Shows a channel: cached messages at once, then the server's newest page, receipts and a read marker. */
  openChannel(channelId: string | undefined): void {
    const s = this.state;
    if (s.activeId === channelId) return;
    s.activeId = channelId;
    if (s.panel.kind === 'details') s.panel = { kind: 'none' };
    this.changed();
    if (!channelId) return;
    if (!s.windows.has(channelId)) {
      s.windows.set(channelId, emptyWindow());
      void this.loadLatest(channelId);
    }
    void this.refreshReceipts(channelId);
    this.markReadIfViewing();
  }

  /** Loads the newest page (from the cache first, so it shows offline and at once). */
  async loadLatest(channelId: string): Promise<void> {
    const win = this.state.windows.get(channelId) ?? emptyWindow();
    this.state.windows.set(channelId, win);
    if (!win.fromServer && win.bySeq.size === 0) {
      const cached = await this.client.cachedMessages(channelId, { limit: PAGE });
      if (cached.length > 0 && !win.fromServer) {
        mergePage(
          win,
          { messages: cached, hasMoreBefore: (cached[0]?.seq ?? 1) > 1, hasMoreAfter: false },
          'latest',
        );
        this.changed();
      }
    }
    await this.loadPage(channelId, {}, 'latest');
    this.markReadIfViewing();
  }

  /** Loads older messages (scrolling up). */
  async loadOlder(channelId: string): Promise<void> {
    const win = this.state.windows.get(channelId);
    const have = win && windowBounds(win);
    if (!win || !have || !win.hasMoreBefore || win.loadingBefore) return;
    win.loadingBefore = true;
    this.changed();
    try {
      await this.loadPage(channelId, { before: have.min }, 'before');
    } finally {
      win.loadingBefore = false;
      this.changed();
    }
  }

  /** Loads newer messages (scrolling down after a jump into the past). */
  async loadNewer(channelId: string): Promise<void> {
    const win = this.state.windows.get(channelId);
    const have = win && windowBounds(win);
    if (!win || !have || !win.hasMoreAfter || win.loadingAfter) return;
    win.loadingAfter = true;
    this.changed();
    try {
      await this.loadPage(channelId, { after: have.max }, 'after');
    } finally {
      win.loadingAfter = false;
      this.changed();
    }
  }

  /** Opens a channel at one message (from search results or mentions) and highlights it. */
  async jumpTo(channelId: string, seq: number): Promise<void> {
    const s = this.state;
    if (window.matchMedia('(max-width: 759px)').matches) s.panel = { kind: 'none' };
    this.openChannelOnly(channelId);
    const loaded = s.windows.get(channelId);
    if (!loaded?.bySeq.has(seq)) await this.loadPage(channelId, { around: seq }, 'around');
    s.jump = { channelId, seq };
    this.changed();
  }

  /** Goes back to the newest messages after a jump. */
  async jumpToLatest(channelId: string): Promise<void> {
    await this.loadPage(channelId, {}, 'latest');
    this.state.jump = undefined;
    this.markReadIfViewing();
  }

  private openChannelOnly(channelId: string): void {
    const s = this.state;
    if (s.activeId !== channelId) {
      s.activeId = channelId;
      if (s.panel.kind === 'details') s.panel = { kind: 'none' };
      void this.refreshReceipts(channelId);
    }
    if (!s.windows.has(channelId)) s.windows.set(channelId, emptyWindow());
  }

  private async loadPage(
    channelId: string,
    query: { before?: number; after?: number; around?: number },
    kind: PageKind,
  ): Promise<void> {
    const win = this.state.windows.get(channelId) ?? emptyWindow();
    this.state.windows.set(channelId, win);
    try {
      const page = await this.client.history(channelId, { ...query, limit: PAGE });
      mergePage(win, page, kind);
      if (page.source === 'server') win.fromServer = true;
      this.users.ensure(page.messages.map((m) => m.senderId));
    } catch (err) {
      this.notify(describeError(err));
    }
    this.changed();
  }

  /** Marks the active channel read when its newest message is on screen. */
  markReadIfViewing(atBottom = this.viewingBottom): void {
    const s = this.state;
    const channel = this.active;
    if (!channel || !atBottom || document.visibilityState !== 'visible') return;
    const win = s.windows.get(channel.id);
    if (!win || win.hasMoreAfter) return;
    const lastSeq = Math.max(channel.lastSeq ?? 0, windowBounds(win)?.max ?? 0);
    if (lastSeq === 0 || (this.readSent.get(channel.id) ?? 0) >= lastSeq) return;
    if ((channel.readSeq ?? 0) >= lastSeq && (channel.unread ?? 0) === 0) return;
    this.readSent.set(channel.id, lastSeq);
    this.client.markRead(channel.id, lastSeq).then(
      () => this.refreshChannelsFromCache(),
      () => this.readSent.delete(channel.id),
    );
  }

  /** Set by the message list: whether its bottom is visible. */
  viewingBottom = true;

  // ---- sending ------------------------------------------------------------------------------------------

  /** Sends a message to the active channel; `@username` tokens of members become mentions. */
  send(text: string): boolean {
    const channel = this.active;
    const trimmed = text.trim();
    if (!channel || trimmed.length === 0) return false;
    const members = channel.memberIds
      .filter((id) => id !== this.state.me.id)
      .map((id) => this.users.get(id))
      .filter((u): u is UserProfile => u !== undefined);
    try {
      this.client.send(channel.id, trimmed, { mentions: findMentions(trimmed, members) });
      this.client.setTyping(channel.id, false);
      return true;
    } catch (err) {
      this.notify(describeError(err));
      return false;
    }
  }

  /** Sends a failed message again. */
  retry(clientMsgId: string): void {
    try {
      this.client.retry(clientMsgId);
    } catch (err) {
      this.notify(describeError(err));
    }
  }

  /** Drops a pending or failed message. */
  discard(clientMsgId: string): void {
    void this.client.discard(clientMsgId);
  }

  /** The user typed in the composer (the SDK throttles the frames). */
  typing(active: boolean): void {
    if (this.state.activeId) this.client.setTyping(this.state.activeId, active);
  }

  /** Pending messages of a channel, in sending order. */
  pendingIn(channelId: string): PendingMessage[] {
    return [...this.state.pending.values()]
      .filter((p) => p.channelId === channelId)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  // ---- conversations and groups -------------------------------------------------------------------------

  /** Opens (creating if needed) the 1-1 conversation with a user. */
  async startDirect(userId: string): Promise<void> {
    const channel = await this.client.openDirect(userId);
    await this.refreshChannels();
    this.openChannel(channel.id);
  }

  /** Creates a group and opens it. */
  async createGroup(name: string, memberIds: readonly string[]): Promise<void> {
    const channel = await this.client.createGroup(name, memberIds);
    await this.refreshChannels();
    this.openChannel(channel.id);
  }

  /** Renames a group. */
  async renameGroup(channelId: string, name: string): Promise<void> {
    await this.client.renameGroup(channelId, name);
    await this.refreshChannels();
  }

  /** Adds members to a group. */
  async addMembers(channelId: string, userIds: readonly string[]): Promise<void> {
    await this.client.addMembers(channelId, userIds);
    await this.refreshChannels();
    void this.refreshPresence();
  }

  /** Removes a member from a group. */
  async removeMember(channelId: string, userId: string): Promise<void> {
    await this.client.removeMember(channelId, userId);
    await this.refreshChannels();
  }

  /** Leaves a group. */
  async leaveGroup(channelId: string): Promise<void> {
    await this.client.leaveGroup(channelId);
    this.state.windows.delete(channelId);
    this.openChannel(undefined);
    await this.refreshChannels();
  }

  /** Users whose username starts with `prefix`, without the signed-in user. */
  async findUsers(prefix: string): Promise<UserProfile[]> {
    const found = await this.client.searchUsers(prefix.toLowerCase(), 10);
    for (const user of found) this.users.put(user);
    return found.filter((u) => u.id !== this.state.me.id);
  }

  // ---- search and mentions ------------------------------------------------------------------------------

  /** Opens or closes a side panel. */
  showPanel(kind: 'none' | 'details' | 'search' | 'mentions'): void {
    const s = this.state;
    if (kind === 'search') s.panel = { kind, query: '', results: undefined, loading: false };
    else if (kind === 'mentions') {
      s.panel = { kind, results: undefined, loading: true };
      void this.loadMentions();
    } else s.panel = { kind };
    this.changed();
  }

  /** Full-text search in the user's channels. */
  async search(query: string): Promise<void> {
    const q = query.trim();
    if (!q) return;
    this.state.panel = { kind: 'search', query: q, results: undefined, loading: true };
    this.changed();
    try {
      const results = await this.client.search(q, { limit: 50 });
      this.users.ensure(results.map((m) => m.senderId));
      if (this.state.panel.kind === 'search' && this.state.panel.query === q)
        this.state.panel = { kind: 'search', query: q, results, loading: false };
    } catch (err) {
      if (this.state.panel.kind === 'search')
        this.state.panel = {
          kind: 'search',
          query: q,
          results: [],
          loading: false,
          error: describeError(err),
        };
    }
    this.changed();
  }

  private async loadMentions(): Promise<void> {
    try {
      const results = await this.client.mentions({ limit: 50 });
      this.users.ensure(results.map((m) => m.senderId));
      if (this.state.panel.kind === 'mentions')
        this.state.panel = { kind: 'mentions', results, loading: false };
    } catch (err) {
      if (this.state.panel.kind === 'mentions')
        this.state.panel = { kind: 'mentions', results: [], loading: false, error: describeError(err) };
    }
    this.changed();
  }

  // ---- account ------------------------------------------------------------------------------------------

  /** Sets the status others see. */
  async setStatus(status: 'online' | 'away' | 'invisible'): Promise<void> {
    this.state.myStatus = status;
    this.changed();
    try {
      await this.client.setStatus(status);
    } catch (err) {
      this.notify(describeError(err));
    }
  }

  /** Logs this device out on the server (every tab of the account follows) and forgets the session. */
  async logout(): Promise<void> {
    try {
      await this.client.logout();
    } catch {
      // Offline: the session is forgotten locally anyway.
    }
    forgetSession(this.session.user.username);
    await this.stop();
    this.onLeave();
  }

  /** Goes to the sign-in screen, keeping this account signed in (to use another in this tab). */
  async switchAccount(): Promise<void> {
    leaveAccount();
    await this.stop();
    this.onLeave();
  }

  /** The session ended outside this tab: stop and say why. */
  end(reason: string): void {
    if (this.state.ended) return;
    this.state.ended = reason;
    this.changed();
    void this.client.close();
  }

  /** Shows a short notice. */
  notify(text: string): void {
    this.state.notice = text;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      this.state.notice = undefined;
      this.changed();
    }, 6_000);
    this.changed();
  }
}
