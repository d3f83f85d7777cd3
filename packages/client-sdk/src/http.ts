import {
  type Channel,
  type ChannelSummary,
  type DiscoveryAnswer,
  ErrorCode,
  isErrorCode,
  type Message,
  NatterError,
  type PresenceInfo,
  type UserProfile,
} from '@natter/protocol';
import type { FetchLike, FetchResponseLike } from './transport.js';

/** What signup, login and refresh return: the user, the device and a token pair. */
export interface Session {
  user: UserProfile;
  deviceId: string;
  /** Bearer token for the API and the WebSocket. */
  accessToken: string;
  /** One-time token to get the next pair (rotated on every refresh). */
  refreshToken: string;
  /** When `accessToken` expires, ms since the epoch. */
  expiresAt: number;
}

/** At most one anchor; none gives the latest page. */
export interface HistoryQuery {
  before?: number;
  after?: number;
  around?: number;
  limit?: number;
}

/** A page of a channel's messages, ascending by `seq`. */
export interface HistoryPage {
  messages: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

/** A member's read and delivery markers in a channel. */
export interface MemberReceipt {
  userId: string;
  /** Every message with `seq <= readSeq` has been read by the member. */
  readSeq: number;
  /** Every message with `seq <= deliveredSeq` has reached one of the member's devices. */
  deliveredSeq: number;
}

/** Paging of mentions and search results: newest first, continue with the last id as `beforeId`. */
export interface MessageQuery {
  limit?: number;
  beforeId?: string;
  channelId?: string;
}

/** A Web Push subscription, or a device token for the server's push webhook. */
export type PushSubscriptionInput =
  | { kind: 'webpush'; endpoint: string; keys: { p256dh: string; auth: string } }
  | { kind: 'webhook'; token: string; platform?: string };

/** What the discovery endpoint answers: the candidate nodes, and the first one's URL for older clients. */
export type Discovery = DiscoveryAnswer;

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  /** Base URL of the server, e.g. `https://chat.example.com`. */
  baseUrl: string;
  /** @default globalThis.fetch */
  fetch?: FetchLike;
  /**
   * Supplies the bearer token; `refresh` is true after the server refused the previous one. Without it,
   * authenticated endpoints fail with `NATTER_UNAUTHORIZED`.
   */
  accessToken?: (refresh: boolean) => Promise<string>;
  /** Per-request timeout, ms. @default 15000 */
  timeoutMs?: number;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.BAD_REQUEST,
  401: ErrorCode.UNAUTHORIZED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  405: ErrorCode.BAD_REQUEST,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.MESSAGE_TOO_LARGE,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.UNAVAILABLE,
};

const enc = encodeURIComponent;

/**
 * A typed client for natter's HTTP API. Every failure is a `NatterError` with a stable code: the server's,
 * or `NATTER_UNAVAILABLE` for network failures and timeouts. An expired token is refreshed and the request
 * retried once.
 */
export class HttpClient {
  /** The server's base URL, without a trailing slash. */
  readonly baseUrl: string;
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;
  /** Token supplier; the client sets it after construction. */
  accessToken: ((refresh: boolean) => Promise<string>) | undefined;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const fetchFn = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (!fetchFn) throw new TypeError('no fetch in this runtime: pass the `fetch` option');
    // Called unbound, browsers throw "Illegal invocation".
    this.fetchFn = options.fetch ? fetchFn : (url, init) => fetchFn.call(globalThis, url, init);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.accessToken = options.accessToken;
  }

  /** Creates an account (when the server allows signup) and logs in. */
  signup(input: {
    username: string;
    password: string;
    displayName?: string;
    deviceId?: string;
  }): Promise<Session> {
    return this.call('POST', '/v1/auth/signup', { body: input, auth: false });
  }

  /** Logs in. Unknown users and wrong passwords both fail with `NATTER_INVALID_CREDENTIALS`. */
  login(input: { username: string; password: string; deviceId?: string }): Promise<Session> {
    return this.call('POST', '/v1/auth/login', { body: input, auth: false });
  }

  /** Exchanges a refresh token for a new pair; the old refresh token stops working. */
  refresh(refreshToken: string): Promise<Session> {
    return this.call('POST', '/v1/auth/refresh', { body: { refreshToken }, auth: false });
  }

  /** Revokes this device's refresh tokens (or every device's) and closes its sockets. */
  async logout(allDevices = false): Promise<void> {
    await this.call('POST', '/v1/auth/logout', { body: allDevices ? { allDevices } : {} });
  }

  /** The caller's profile. */
  async me(): Promise<UserProfile> {
    return (await this.call<{ user: UserProfile }>('GET', '/v1/me')).user;
  }

  /** Updates the caller's display name. */
  async updateProfile(input: { displayName: string }): Promise<UserProfile> {
    return (await this.call<{ user: UserProfile }>('PATCH', '/v1/me', { body: input })).user;
  }

  /** A user's public profile. */
  async getUser(userId: string): Promise<UserProfile> {
    return (await this.call<{ user: UserProfile }>('GET', `/v1/users/${enc(userId)}`)).user;
  }

  /** Users whose username starts with `prefix` (1-32 characters). */
  async searchUsers(prefix: string, limit?: number): Promise<UserProfile[]> {
    const query = `prefix=${enc(prefix)}${limit !== undefined ? `&limit=${limit}` : ''}`;
    return (await this.call<{ users: UserProfile[] }>('GET', `/v1/users?${query}`)).users;
  }

  /** The caller's channels with last message and unread count, newest activity first. */
  async listChannels(): Promise<ChannelSummary[]> {
    return (await this.call<{ channels: ChannelSummary[] }>('GET', '/v1/channels')).channels;
  }

  /** Opens (creating on first use) the direct channel with `userId`. */
  async openDirect(userId: string): Promise<Channel> {
    return (await this.call<{ channel: Channel }>('POST', '/v1/channels/direct', { body: { userId } }))
      .channel;
  }

  /** One channel the caller belongs to. */
  async getChannel(channelId: string): Promise<Channel> {
    return (await this.call<{ channel: Channel }>('GET', `/v1/channels/${enc(channelId)}`)).channel;
  }

  /** A page of a channel's history. */
  history(channelId: string, query: HistoryQuery = {}): Promise<HistoryPage> {
    const params = (['before', 'after', 'around', 'limit'] as const)
      .filter((k) => query[k] !== undefined)
      .map((k) => `${k}=${query[k]}`);
    const qs = params.length > 0 ? `?${params.join('&')}` : '';
    return this.call('GET', `/v1/channels/${enc(channelId)}/messages${qs}`);
  }

  /** Raises the caller's read marker in a channel; answers the marker and the remaining unread count. */
  markRead(channelId: string, seq: number): Promise<{ readSeq: number; unread: number }> {
    return this.call('POST', `/v1/channels/${enc(channelId)}/read`, { body: { seq } });
  }

  /** Every member's read and delivery markers in a channel. */
  async receipts(channelId: string): Promise<MemberReceipt[]> {
    const path = `/v1/channels/${enc(channelId)}/receipts`;
    return (await this.call<{ receipts: MemberReceipt[] }>('GET', path)).receipts;
  }

  /** Mutes or unmutes push notifications for a channel. */
  async setMuted(channelId: string, muted: boolean): Promise<void> {
    await this.call('PUT', `/v1/channels/${enc(channelId)}/mute`, { body: { muted } });
  }

  /** Messages that mention the caller, newest first. */
  async mentions(query: MessageQuery = {}): Promise<Message[]> {
    return (await this.call<{ messages: Message[] }>('GET', `/v1/mentions${queryString(query)}`)).messages;
  }

  /** Full-text search over the caller's channels, newest first (when the server's storage supports it). */
  async search(q: string, query: MessageQuery = {}): Promise<Message[]> {
    const path = `/v1/search${queryString({ q, ...query })}`;
    return (await this.call<{ messages: Message[] }>('GET', path)).messages;
  }

  /** Presence of some users, or of a channel's members (only users who share a channel with the caller). */
  async presence(query: { userIds: readonly string[] } | { channelId: string }): Promise<PresenceInfo[]> {
    const qs =
      'channelId' in query
        ? queryString({ channelId: query.channelId })
        : queryString({ userIds: query.userIds.join(',') });
    return (await this.call<{ users: PresenceInfo[] }>('GET', `/v1/presence${qs}`)).users;
  }

  /** The server's VAPID public key for Web Push (NOT_FOUND when push is not configured). */
  async vapidPublicKey(): Promise<string> {
    return (await this.call<{ publicKey: string }>('GET', '/v1/push/vapid-key', { auth: false })).publicKey;
  }

  /** Registers this device for push notifications. */
  async registerPush(subscription: PushSubscriptionInput): Promise<void> {
    await this.call('POST', '/v1/push/subscriptions', { body: subscription });
  }

  /** Removes this device's push registrations. */
  async removePush(): Promise<void> {
    await this.call('DELETE', '/v1/push/subscriptions');
  }

  /** Creates a group with the caller as admin. */
  async createGroup(name: string, memberIds: readonly string[]): Promise<Channel> {
    return (await this.call<{ channel: Channel }>('POST', '/v1/groups', { body: { name, memberIds } }))
      .channel;
  }

  /** Renames a group. */
  async renameGroup(channelId: string, name: string): Promise<Channel> {
    return (
      await this.call<{ channel: Channel }>('PATCH', `/v1/groups/${enc(channelId)}`, { body: { name } })
    ).channel;
  }

  /** Adds members to a group. */
  async addMembers(channelId: string, userIds: readonly string[]): Promise<Channel> {
    const path = `/v1/groups/${enc(channelId)}/members`;
    return (await this.call<{ channel: Channel }>('POST', path, { body: { userIds } })).channel;
  }

  /** Removes a member from a group (admins only). */
  async removeMember(channelId: string, userId: string): Promise<void> {
    await this.call('DELETE', `/v1/groups/${enc(channelId)}/members/${enc(userId)}`);
  }

  /** Leaves a group. */
  async leaveGroup(channelId: string): Promise<void> {
    await this.call('POST', `/v1/groups/${enc(channelId)}/leave`);
  }

  /** Where to open the WebSocket: the candidate nodes, best first (`ChatClient` does this itself with `discovery`). */
  discovery(): Promise<Discovery> {
    return this.call('GET', '/v1/discovery', { auth: false });
  }

  private async call<T>(
    method: string,
    path: string,
    options: { body?: unknown; auth?: boolean } = {},
  ): Promise<T> {
    const auth = options.auth ?? true;
    let response = await this.send(method, path, options.body, auth ? await this.token(false) : undefined);
    if (auth && response.status === 401 && this.accessToken) {
      // The token may have expired in flight, or been rotated by another request: one retry with a fresh one.
      await response.text().catch(() => '');
      response = await this.send(method, path, options.body, await this.token(true));
    }
    const text = await response.text().catch(() => '');
    const body = parseJson(text);
    if (!response.ok) throw toHttpError(response, body);
    return body as T;
  }

  private async token(refresh: boolean): Promise<string> {
    if (!this.accessToken) throw new NatterError(ErrorCode.UNAUTHORIZED, 'not logged in');
    return this.accessToken(refresh);
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    token: string | undefined,
  ): Promise<FetchResponseLike> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const Abort = (globalThis as { AbortController?: new () => { signal: unknown; abort(): void } })
      .AbortController;
    const controller = Abort ? new Abort() : undefined;
    const timer = setTimeout(() => controller?.abort(), this.timeoutMs);
    try {
      return await this.fetchFn(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(controller ? { signal: controller.signal } : {}),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new NatterError(ErrorCode.UNAVAILABLE, `network error: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

function queryString(params: object): string {
  const parts = Object.entries(params as Record<string, string | number | undefined>)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${enc(String(value))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toHttpError(response: FetchResponseLike, body: unknown): NatterError {
  const error = (
    body as { error?: { code?: unknown; message?: unknown; retryAfterMs?: unknown } } | undefined
  )?.error;
  const code = isErrorCode(error?.code)
    ? error.code
    : (STATUS_CODES[response.status] ??
      (response.status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST));
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`;
  let retryAfterMs = typeof error?.retryAfterMs === 'number' ? error.retryAfterMs : undefined;
  const header = response.headers.get('retry-after');
  if (retryAfterMs === undefined && header && /^\d+$/.test(header)) retryAfterMs = Number(header) * 1000;
  return new NatterError(code, message, retryAfterMs);
}
