import {
  type Channel,
  ErrorBodySchema,
  ErrorCode,
  errorFromWire,
  fillPath,
  type Message,
  NatterError,
  type NatterEvent,
  parseResponse,
  type Report,
  ROUTES,
  type RouteBodyInput,
  type RouteName,
  type RouteQuery,
  type RouteResponse,
  type ServerCreateChannelBody,
  type ServerUser,
  type Session,
} from '@natter/protocol';
import * as v from 'valibot';

/** Operation names of the server API (`/v1/server/...`). */
export type ServerRouteName = {
  [N in RouteName]: (typeof ROUTES)[N]['auth'] extends 'apiKey' ? N : never;
}[RouteName];

/** What {@link NatterServerClient.call} takes: path parameters, query and body, typed by the route. */
export interface ServerCallInput<N extends ServerRouteName> {
  params?: Readonly<Record<string, string>>;
  query?: Partial<RouteQuery<N>>;
  body?: RouteBodyInput<N>;
}

/** Options of {@link NatterServerClient}. */
export interface NatterServerClientOptions {
  /** Base URL of the natter server, e.g. `https://chat.internal:8080`. */
  baseUrl: string;
  /** A server API key configured on the server (`serverApi.keys`), with the scopes the calls need. */
  apiKey: string;
  /** Per-request timeout, ms. @default 15000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** A post to a channel: as a member (`userId`) or as the app; `system` makes it a notice. */
export interface PostInput {
  text: string;
  userId?: string;
  system?: boolean;
  /** Idempotency key: retrying with the same key returns the first message instead of a second. */
  clientMsgId?: string;
  mentions?: readonly string[];
}

/** The server's error, or a code from the status when the body is not natter's error shape (a proxy's). */
function errorOf(status: number, body: unknown): NatterError {
  const parsed = v.safeParse(ErrorBodySchema, body);
  if (parsed.success) {
    const { code, message, retryAfterMs } = parsed.output.error;
    return errorFromWire(code, message, retryAfterMs);
  }
  const code =
    status === 401 ? ErrorCode.UNAUTHORIZED : status >= 500 ? ErrorCode.UNAVAILABLE : ErrorCode.BAD_REQUEST;
  return new NatterError(code, `HTTP ${status}`);
}

function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * A typed client for natter's server API, for app backends: manage users, channels and members, post
 * messages and notices, issue user tokens and replay events. Built on the protocol's route table, as the
 * server's router is, and answers are checked against the same schemas. Every failure is a `NatterError`:
 * the server's code (`NATTER_INSUFFICIENT_SCOPE` for a key without the scope), or `NATTER_UNAVAILABLE` for
 * network failures and timeouts.
 */
export class NatterServerClient {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: NatterServerClientOptions) {
    if (!options.apiKey) throw new TypeError('NatterServerClient needs an apiKey');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** Creates a user with your app's id for them (they have no password in natter). */
  async createUser(input: { id: string; username: string; displayName?: string }): Promise<ServerUser> {
    return (await this.call('serverCreateUser', { body: input })).user;
  }

  /** Changes a user's display name. */
  async updateUser(userId: string, patch: { displayName: string }): Promise<ServerUser> {
    return (await this.call('serverUpdateUser', { params: { id: userId }, body: patch })).user;
  }

  /** Deactivates a user: tokens refused, sockets closed, sessions revoked; their messages stay. */
  async deactivateUser(userId: string): Promise<ServerUser> {
    return (await this.call('serverDeactivateUser', { params: { id: userId } })).user;
  }

  /** Reactivates a deactivated user. */
  async reactivateUser(userId: string): Promise<ServerUser> {
    return (await this.call('serverReactivateUser', { params: { id: userId } })).user;
  }

  /** Issues a session (natter's own access and refresh token) for a user's device. */
  issueTokens(userId: string, deviceId?: string): Promise<Session> {
    return this.call('serverIssueTokens', { params: { id: userId }, body: deviceId ? { deviceId } : {} });
  }

  /** Creates a group with an owner, or opens the direct channel of two users. */
  async createChannel(input: ServerCreateChannelBody): Promise<Channel> {
    return (await this.call('serverCreateChannel', { body: input })).channel;
  }

  /** Adds users to a group, as the app. */
  async addMembers(channelId: string, userIds: readonly string[]): Promise<Channel> {
    return (
      await this.call('serverAddMembers', { params: { id: channelId }, body: { userIds: [...userIds] } })
    ).channel;
  }

  /** Removes a user from a group, as the app. */
  async removeMember(channelId: string, userId: string): Promise<void> {
    await this.call('serverRemoveMember', { params: { id: channelId, userId } });
  }

  /** Posts a message or a notice to a channel, as a member or as the app. */
  async postMessage(channelId: string, input: PostInput): Promise<Message> {
    const { mentions, ...rest } = input;
    const body = { ...rest, ...(mentions ? { mentions: [...mentions] } : {}) };
    return (await this.call('serverPostMessage', { params: { id: channelId }, body })).message;
  }

  /** Events after `after` (an event id), oldest first: replays what a webhook receiver missed. */
  events(after?: string, limit?: number): Promise<{ events: NatterEvent[]; hasMore: boolean }> {
    return this.call('serverEvents', { query: { after, limit } as Partial<RouteQuery<'serverEvents'>> });
  }

  /**
   * Users' reports (of messages or users), oldest first; `status` keeps only open or resolved ones, and
   * `after` (a report id) pages. Needs scope `reports:write`.
   */
  reports(
    query: { status?: 'open' | 'resolved'; after?: string; limit?: number } = {},
  ): Promise<{ reports: Report[]; hasMore: boolean }> {
    return this.call('serverListReports', { query: query as Partial<RouteQuery<'serverListReports'>> });
  }

  /** Marks a report resolved (`dismissed` or `actioned`, with a note for the record). */
  async resolveReport(
    reportId: string,
    resolution: { outcome: 'dismissed' | 'actioned'; note?: string },
  ): Promise<Report> {
    return (await this.call('serverResolveReport', { params: { id: reportId }, body: resolution })).report;
  }

  /** Calls one server API operation of the protocol's route table and checks the answer's shape. */
  async call<N extends ServerRouteName>(name: N, input: ServerCallInput<N> = {}): Promise<RouteResponse<N>> {
    const route = ROUTES[name];
    const url = `${this.baseUrl}${fillPath(route.path, input.params ?? {})}${queryString(input.query ?? {})}`;
    const hasBody = 'body' in route;
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method: route.method,
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
        },
        ...(hasBody ? { body: JSON.stringify(input.body ?? {}) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new NatterError(ErrorCode.UNAVAILABLE, `server API unreachable: ${String(err)}`, undefined, {
        cause: err,
      });
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw errorOf(response.status, parsed);
    const schema: v.GenericSchema | undefined = 'response' in route ? route.response : undefined;
    return (schema ? parseResponse(schema, parsed, name) : undefined) as RouteResponse<N>;
  }
}
