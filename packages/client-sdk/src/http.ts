import {
  type Channel,
  type ChannelSummary,
  type DiscoveryAnswer,
  ErrorBodySchema,
  ErrorCode,
  errorFromWire,
  fillPath,
  type HistoryPage,
  type MediaBody,
  type MemberReceipt,
  type Message,
  NatterError,
  type PresenceInfo,
  type PushSubscriptionInput,
  parseResponse,
  ROUTES,
  type RouteBodyInput,
  type RouteName,
  type RouteQuery,
  type RouteResponse,
  type Session,
  type UserProfile,
} from '@natter/protocol';
import * as v from 'valibot';
import { type UploadContext, type UploadData, type UploadOptions, uploadMedia } from './media.js';
import type { FetchLike, FetchResponseLike } from './transport.js';

export type { HistoryPage, MemberReceipt, PushSubscriptionInput, Session };

/** A history page's anchor (at most one; none gives the latest page) and size: the route's query. */
export type HistoryQuery = RouteQuery<'history'>;

/** Paging of mentions and search results: newest first, continue with the last id as `beforeId`. */
export type MessageQuery = RouteQuery<'mentions'>;

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
  signup(input: RouteBodyInput<'signup'>): Promise<Session> {
    return this.call('signup', { body: input });
  }

  /** Logs in. Unknown users and wrong passwords both fail with `NATTER_INVALID_CREDENTIALS`. */
  login(input: RouteBodyInput<'login'>): Promise<Session> {
    return this.call('login', { body: input });
  }

  /** Exchanges a refresh token for a new pair; the old refresh token stops working. */
  refresh(refreshToken: string): Promise<Session> {
    return this.call('refresh', { body: { refreshToken } });
  }

  /**
   * Changes the password: every session of the user ends on every node, and this device gets the new
   * session returned. @throws NatterError NATTER_INVALID_CREDENTIALS, NATTER_WEAK_PASSWORD.
   */
  changePassword(input: RouteBodyInput<'changePassword'>): Promise<Session> {
    return this.call('changePassword', { body: input });
  }

  /** Revokes this device's refresh tokens (or every device's) and closes its sockets. */
  async logout(allDevices = false): Promise<void> {
    await this.call('logout', { body: allDevices ? { allDevices } : {} });
  }

  /** The caller's profile. */
  async me(): Promise<UserProfile> {
    return (await this.call('me')).user;
  }

  /** Updates the caller's display name. */
  async updateProfile(input: { displayName: string }): Promise<UserProfile> {
    return (await this.call('updateProfile', { body: input })).user;
  }

  /** A user's public profile. */
  async getUser(userId: string): Promise<UserProfile> {
    return (await this.call('getUser', { params: { id: userId } })).user;
  }

  /** Users whose username starts with `prefix` (1-32 characters). */
  async searchUsers(prefix: string, limit?: number): Promise<UserProfile[]> {
    return (await this.call('searchUsers', { query: { prefix, limit } })).users;
  }

  /** The caller's channels with last message and unread count, newest activity first. */
  async listChannels(): Promise<ChannelSummary[]> {
    return (await this.call('listChannels')).channels;
  }

  /** Opens (creating on first use) the direct channel with `userId`. */
  async openDirect(userId: string): Promise<Channel> {
    return (await this.call('openDirect', { body: { userId } })).channel;
  }

  /** One channel the caller belongs to. */
  async getChannel(channelId: string): Promise<Channel> {
    return (await this.call('getChannel', { params: { id: channelId } })).channel;
  }

  /** A page of a channel's history. */
  history(channelId: string, query: HistoryQuery = {}): Promise<HistoryPage> {
    const { before, after, around, limit } = query;
    return this.call('history', { params: { id: channelId }, query: { before, after, around, limit } });
  }

  /** Raises the caller's read marker in a channel; answers the marker and the remaining unread count. */
  markRead(channelId: string, seq: number): Promise<{ readSeq: number; unread: number }> {
    return this.call('markRead', { params: { id: channelId }, body: { seq } });
  }

  /** Every member's read and delivery markers in a channel. */
  async receipts(channelId: string): Promise<MemberReceipt[]> {
    return (await this.call('receipts', { params: { id: channelId } })).receipts;
  }

  /** Mutes or unmutes push notifications for a channel. */
  async setMuted(channelId: string, muted: boolean): Promise<void> {
    await this.call('setMuted', { params: { id: channelId }, body: { muted } });
  }

  /** Messages that mention the caller, newest first. */
  async mentions(query: MessageQuery = {}): Promise<Message[]> {
    return (await this.call('mentions', { query: { ...query } })).messages;
  }

  /** Full-text search over the caller's channels, newest first (when the server's storage supports it). */
  async search(q: string, query: MessageQuery = {}): Promise<Message[]> {
    return (await this.call('search', { query: { q, ...query } })).messages;
  }

  /** Presence of some users, or of a channel's members (only users who share a channel with the caller). */
  async presence(query: { userIds: readonly string[] } | { channelId: string }): Promise<PresenceInfo[]> {
    const q = 'channelId' in query ? { channelId: query.channelId } : { userIds: [...query.userIds] };
    return (await this.call('presence', { query: q })).users;
  }

  /** The server's VAPID public key for Web Push (NOT_FOUND when push is not configured). */
  async vapidPublicKey(): Promise<string> {
    return (await this.call('vapidKey')).publicKey;
  }

  /** Registers this device for push notifications. */
  async registerPush(subscription: PushSubscriptionInput): Promise<void> {
    await this.call('registerPush', { body: subscription });
  }

  /** Removes this device's push registrations. */
  async removePush(): Promise<void> {
    await this.call('removePush');
  }

  /** Creates a group with the caller as admin. */
  async createGroup(name: string, memberIds: readonly string[]): Promise<Channel> {
    return (await this.call('createGroup', { body: { name, memberIds: [...memberIds] } })).channel;
  }

  /** Renames a group. */
  async renameGroup(channelId: string, name: string): Promise<Channel> {
    return (await this.call('renameGroup', { params: { id: channelId }, body: { name } })).channel;
  }

  /** Adds members to a group. */
  async addMembers(channelId: string, userIds: readonly string[]): Promise<Channel> {
    return (await this.call('addMembers', { params: { id: channelId }, body: { userIds: [...userIds] } }))
      .channel;
  }

  /** Removes a member from a group (admins only). */
  async removeMember(channelId: string, userId: string): Promise<void> {
    await this.call('removeMember', { params: { id: channelId, userId } });
  }

  /** Leaves a group. */
  async leaveGroup(channelId: string): Promise<void> {
    await this.call('leaveGroup', { params: { id: channelId } });
  }

  /**
   * Uploads a file (`POST /v1/media`) and answers what the server stored: its id for `send`, type,
   * size, dimensions, placeholder and thumbnails. The same bytes uploaded again (before they are sent)
   * answer the same upload, so a retry after a lost answer stores nothing twice.
   */
  async upload(
    data: UploadData,
    options: UploadOptions = {},
    context: UploadContext = {},
  ): Promise<MediaBody> {
    try {
      return await uploadMedia(this.baseUrl, await this.token(false), data, options, context);
    } catch (err) {
      if (!(err instanceof NatterError) || err.code !== ErrorCode.UNAUTHORIZED || !this.accessToken)
        throw err;
      return uploadMedia(this.baseUrl, await this.token(true), data, options, context);
    }
  }

  /**
   * A short-lived signed URL of an upload or one of its thumbnails, for `<img src>`: it carries no access
   * token (nothing to leak into logs or a Referer) and stops working after `ttlMs`.
   */
  async mediaUrl(mediaId: string, options: { thumbnailSize?: number; ttlMs?: number } = {}): Promise<string> {
    const { url } = await this.call('mediaUrl', { params: { id: mediaId }, body: options });
    return `${this.baseUrl}${url}`;
  }

  /** Where to open the WebSocket: the candidate nodes, best first (`ChatClient` does this itself with `discovery`). */
  discovery(): Promise<Discovery> {
    return this.call('discovery');
  }

  /**
   * Calls one operation of the protocol's route table: fills the path, builds the query, sends the body,
   * and checks the answer against the route's response schema (a mismatch is `NATTER_BAD_RESPONSE`).
   */
  async call<N extends RouteName>(name: N, input: CallInput<N> = {}): Promise<RouteResponse<N>> {
    const route = ROUTES[name];
    const path = fillPath(route.path, input.params ?? {}) + queryString(input.query ?? {});
    const body = 'body' in route ? (input.body ?? {}) : undefined;
    let response = await this.send(
      route.method,
      path,
      body,
      route.auth ? await this.token(false) : undefined,
    );
    if (route.auth && response.status === 401 && this.accessToken) {
      // The token may have expired in flight, or been rotated by another request: one retry with a fresh one.
      await response.text().catch(() => '');
      response = await this.send(route.method, path, body, await this.token(true));
    }
    const text = await response.text().catch(() => '');
    const parsed = parseJson(text);
    if (!response.ok) throw toHttpError(response, parsed);
    const schema: v.GenericSchema | undefined = 'response' in route ? route.response : undefined;
    return (schema ? parseResponse(schema, parsed, name) : undefined) as RouteResponse<N>;
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

/** What {@link HttpClient.call} takes: path parameters, query values and the body, by route. */
export interface CallInput<N extends RouteName> {
  params?: Readonly<Record<string, string>>;
  query?: Readonly<Record<string, string | number | readonly string[] | undefined>>;
  body?: RouteBodyInput<N>;
}

/** Query string of defined values; arrays travel comma-separated. */
function queryString(
  params: Readonly<Record<string, string | number | readonly string[] | undefined>>,
): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string | number | readonly string[]] => entry[1] !== undefined)
    .map(([key, value]) => {
      const text = typeof value === 'object' ? value.join(',') : String(value);
      return `${key}=${encodeURIComponent(text)}`;
    });
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

/** The error of a failed response: the body's code when it is a natter error body, else one for the status. */
function toHttpError(response: FetchResponseLike, body: unknown): NatterError {
  const parsed = v.safeParse(ErrorBodySchema, body);
  const header = response.headers.get('retry-after');
  const headerMs = header && /^\d+$/.test(header) ? Number(header) * 1000 : undefined;
  if (parsed.success) {
    const { code, message, retryAfterMs } = parsed.output.error;
    return errorFromWire(code, message, retryAfterMs ?? headerMs);
  }
  const code =
    STATUS_CODES[response.status] ?? (response.status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST);
  return new NatterError(code, `HTTP ${response.status}`, headerMs);
}
