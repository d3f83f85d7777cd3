import * as v from 'valibot';
import { type ErrorCode, NatterError } from '../errors.js';
import { ID_LIMITS } from '../limits.js';
import { describeIssues } from '../parse.js';
import { IdSchema, SeqSchema, UintSchema, WellFormedText } from '../schemas/primitives.js';
import {
  AddMembersBodySchema,
  ChangePasswordBodySchema,
  ChannelBodySchema,
  ChannelListBodySchema,
  CreateGroupBodySchema,
  HistoryPageBodySchema,
  LoginBodySchema,
  LogoutBodySchema,
  MarkReadBodySchema,
  MessageListBodySchema,
  MuteBodySchema,
  MuteResultBodySchema,
  OpenDirectBodySchema,
  PresenceListBodySchema,
  PushSubscriptionBodySchema,
  ReadResultBodySchema,
  ReceiptsBodySchema,
  RefreshBodySchema,
  RenameGroupBodySchema,
  SessionBodySchema,
  SignupBodySchema,
  UpdateProfileBodySchema,
  UserBodySchema,
  UsersBodySchema,
  VapidKeyBodySchema,
} from './bodies.js';
import { DiscoveryAnswerSchema, DiscoveryQuerySchema, PingAnswerSchema } from './discovery.js';
import { E2EE_ROUTES } from './e2ee.js';
import { MEDIA_ROUTES } from './media.js';
import { MODERATION_ROUTES, SERVER_MODERATION_ROUTES } from './moderation.js';
import { SERVER_ROUTES, type ServerApiScope } from './server-api.js';

/** HTTP methods the API routes on. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A valibot object schema over query parameters (values are coerced from strings by their schema's type). */
export type QuerySchema = v.GenericSchema<Record<string, unknown>, Record<string, unknown>>;

/**
 * One route of the HTTP API: everything a server needs to route and validate it, a client needs to call it,
 * and the OpenAPI document needs to describe it. The server's router is built from {@link ROUTES}, so every
 * documented route exists and every route is documented.
 */
export interface RouteSpec {
  readonly method: HttpMethod;
  /** Path with `{name}` parameters, e.g. `/v1/groups/{id}/members/{userId}`; each parameter is an id. */
  readonly path: string;
  /**
   * `true` when the route needs a user's bearer token; `'apiKey'` when it needs a server API key (app
   * backends) holding `scope`; `false` for public routes.
   */
  readonly auth: boolean | 'apiKey';
  /** The scope a server API key needs for an `'apiKey'` route. */
  readonly scope?: ServerApiScope;
  /** One line for the docs. */
  readonly summary: string;
  /** Groups routes in the docs. */
  readonly tag:
    | 'auth'
    | 'users'
    | 'channels'
    | 'groups'
    | 'messages'
    | 'presence'
    | 'push'
    | 'discovery'
    | 'media'
    | 'e2ee'
    | 'server';
  /** Query parameters, when the route takes any. */
  readonly query?: QuerySchema;
  /** JSON request body, when the route takes one. */
  readonly body?: v.GenericSchema;
  /**
   * This route's own JSON body limit, bytes, above the server's `maxBodyBytes` (the MLS commit and
   * ciphertext routes); the body is then read as a stream and cut off at this limit.
   */
  readonly maxBodyBytes?: number;
  /** The body is the raw bytes of a file (any content type), streamed to the handler, not parsed. */
  readonly rawBody?: true;
  /** The response is the bytes of a file, not JSON. */
  readonly binary?: true;
  /** JSON response body; absent for 204. */
  readonly response?: v.GenericSchema;
  /** Success status. */
  readonly status: 200 | 201 | 204;
  /** Error codes this route answers besides the common ones (BAD_REQUEST, UNAUTHORIZED, RATE_LIMITED, INTERNAL). */
  readonly errors?: readonly ErrorCode[];
}

const limit = (max: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(max)));

/** `?limit=&beforeId=&channelId=`: paging of mentions and search (newest first). */
const PagingQuery = {
  limit: limit(10_000),
  beforeId: v.optional(IdSchema),
  channelId: v.optional(IdSchema),
};

/** History anchors: at most one of `before`, `after`, `around`. */
export const HistoryQuerySchema = v.pipe(
  v.object({
    before: v.optional(SeqSchema),
    after: v.optional(UintSchema),
    around: v.optional(SeqSchema),
    limit: limit(10_000),
  }),
  v.check(
    (q) => [q.before, q.after, q.around].filter((x) => x !== undefined).length <= 1,
    'at most one of before, after, around',
  ),
);

/** `GET /v1/users?prefix=&limit=`. */
export const UserSearchQuerySchema = v.object({
  prefix: v.pipe(
    v.string(),
    v.toLowerCase(),
    v.minLength(1, 'prefix must be 1-32 characters'),
    v.maxLength(32, 'prefix must be 1-32 characters'),
  ),
  limit: limit(50),
});

/** `GET /v1/mentions`. */
export const MentionsQuerySchema = v.object(PagingQuery);

/** `GET /v1/search?q=`. */
export const SearchQuerySchema = v.object({
  q: v.pipe(
    v.string(),
    WellFormedText,
    v.trim(),
    v.minLength(1, 'q must be 1-200 characters'),
    v.maxLength(200, 'q must be 1-200 characters'),
  ),
  ...PagingQuery,
});

/** `GET /v1/presence?userIds=a,b` or `?channelId=`. */
export const PresenceQuerySchema = v.pipe(
  v.object({
    userIds: v.optional(
      v.pipe(
        v.array(IdSchema, 'userIds must be at most 200 valid ids'),
        v.maxLength(ID_LIMITS.maxIdsPerRequest, 'userIds must be at most 200 valid ids'),
      ),
    ),
    channelId: v.optional(IdSchema),
  }),
  v.check(
    (q) => (q.userIds === undefined) !== (q.channelId === undefined),
    'give exactly one of userIds, channelId',
  ),
);

/** Every route of the HTTP API, by operation name. docs/api.md and `GET /v1/openapi.json` come from it. */
export const ROUTES = {
  signup: {
    method: 'POST',
    path: '/v1/auth/signup',
    auth: false,
    tag: 'auth',
    summary: 'Creates an account and logs in (when the server allows signup).',
    body: SignupBodySchema,
    response: SessionBodySchema,
    status: 201,
    errors: ['NATTER_CONFLICT', 'NATTER_FORBIDDEN', 'NATTER_WEAK_PASSWORD', 'NATTER_RATE_LIMITED'],
  },
  login: {
    method: 'POST',
    path: '/v1/auth/login',
    auth: false,
    tag: 'auth',
    summary: 'Logs in; unknown users and wrong passwords both answer NATTER_INVALID_CREDENTIALS.',
    body: LoginBodySchema,
    response: SessionBodySchema,
    status: 200,
    errors: ['NATTER_INVALID_CREDENTIALS'],
  },
  refresh: {
    method: 'POST',
    path: '/v1/auth/refresh',
    auth: false,
    tag: 'auth',
    summary: 'Exchanges a refresh token for a new pair; the old refresh token stops working.',
    body: RefreshBodySchema,
    response: SessionBodySchema,
    status: 200,
  },
  changePassword: {
    method: 'POST',
    path: '/v1/auth/password',
    auth: true,
    tag: 'auth',
    summary:
      "Changes the caller's password: every session of the user is revoked on every node and the other devices' sockets are closed; the caller gets a new session.",
    body: ChangePasswordBodySchema,
    response: SessionBodySchema,
    status: 200,
    errors: ['NATTER_INVALID_CREDENTIALS', 'NATTER_WEAK_PASSWORD', 'NATTER_RATE_LIMITED'],
  },
  logout: {
    method: 'POST',
    path: '/v1/auth/logout',
    auth: true,
    tag: 'auth',
    summary: "Revokes this device's session (or every device's) on every node and closes its sockets here.",
    body: LogoutBodySchema,
    status: 204,
  },
  me: {
    method: 'GET',
    path: '/v1/me',
    auth: true,
    tag: 'users',
    summary: "The caller's profile.",
    response: UserBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  updateProfile: {
    method: 'PATCH',
    path: '/v1/me',
    auth: true,
    tag: 'users',
    summary: "Updates the caller's display name.",
    body: UpdateProfileBodySchema,
    response: UserBodySchema,
    status: 200,
  },
  searchUsers: {
    method: 'GET',
    path: '/v1/users',
    auth: true,
    tag: 'users',
    summary: 'Users whose username starts with `prefix`, by username.',
    query: UserSearchQuerySchema,
    response: UsersBodySchema,
    status: 200,
  },
  getUser: {
    method: 'GET',
    path: '/v1/users/{id}',
    auth: true,
    tag: 'users',
    summary: "A user's public profile.",
    response: UserBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  listChannels: {
    method: 'GET',
    path: '/v1/channels',
    auth: true,
    tag: 'channels',
    summary: "The caller's channels with last message and unread count, newest activity first.",
    response: ChannelListBodySchema,
    status: 200,
  },
  openDirect: {
    method: 'POST',
    path: '/v1/channels/direct',
    auth: true,
    tag: 'channels',
    summary: 'Opens (creating on first use) the direct channel with a user.',
    body: OpenDirectBodySchema,
    response: ChannelBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  getChannel: {
    method: 'GET',
    path: '/v1/channels/{id}',
    auth: true,
    tag: 'channels',
    summary: 'One channel the caller belongs to.',
    response: ChannelBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  history: {
    method: 'GET',
    path: '/v1/channels/{id}/messages',
    auth: true,
    tag: 'channels',
    summary: "A page of a channel's history, ascending by seq, from when the caller joined.",
    query: HistoryQuerySchema,
    response: HistoryPageBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  receipts: {
    method: 'GET',
    path: '/v1/channels/{id}/receipts',
    auth: true,
    tag: 'channels',
    summary: "Every member's read and delivery markers in a channel.",
    response: ReceiptsBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  markRead: {
    method: 'POST',
    path: '/v1/channels/{id}/read',
    auth: true,
    tag: 'channels',
    summary:
      "Raises the caller's read marker (clamped to the last message); answers it and the unread count.",
    body: MarkReadBodySchema,
    response: ReadResultBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  setMuted: {
    method: 'PUT',
    path: '/v1/channels/{id}/mute',
    auth: true,
    tag: 'push',
    summary: "Mutes or unmutes a channel's push notifications for the caller (404 without push).",
    body: MuteBodySchema,
    response: MuteResultBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  mentions: {
    method: 'GET',
    path: '/v1/mentions',
    auth: true,
    tag: 'messages',
    summary: 'Messages that @-mention the caller, newest first; page with `beforeId`.',
    query: MentionsQuerySchema,
    response: MessageListBodySchema,
    status: 200,
  },
  search: {
    method: 'GET',
    path: '/v1/search',
    auth: true,
    tag: 'messages',
    summary: "Full-text search over the caller's channels, newest first (404 when the store cannot search).",
    query: SearchQuerySchema,
    response: MessageListBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  presence: {
    method: 'GET',
    path: '/v1/presence',
    auth: true,
    tag: 'presence',
    summary:
      "Presence of some users, or of a channel's members (only users who share a channel with the caller).",
    query: PresenceQuerySchema,
    response: PresenceListBodySchema,
    status: 200,
  },
  vapidKey: {
    method: 'GET',
    path: '/v1/push/vapid-key',
    auth: false,
    tag: 'push',
    summary: "The server's VAPID public key for Web Push (404 when not configured).",
    response: VapidKeyBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND'],
  },
  registerPush: {
    method: 'POST',
    path: '/v1/push/subscriptions',
    auth: true,
    tag: 'push',
    summary: "Registers the token's device for push notifications.",
    body: PushSubscriptionBodySchema,
    status: 204,
  },
  removePush: {
    method: 'DELETE',
    path: '/v1/push/subscriptions',
    auth: true,
    tag: 'push',
    summary: "Removes the token's device's push registrations.",
    status: 204,
  },
  createGroup: {
    method: 'POST',
    path: '/v1/groups',
    auth: true,
    tag: 'groups',
    summary:
      'Creates a group with the caller as admin (at most maxGroupMembers members, the caller included).',
    body: CreateGroupBodySchema,
    response: ChannelBodySchema,
    status: 201,
    errors: ['NATTER_GROUP_FULL', 'NATTER_NOT_FOUND'],
  },
  renameGroup: {
    method: 'PATCH',
    path: '/v1/groups/{id}',
    auth: true,
    tag: 'groups',
    summary: 'Renames a group; any member may.',
    body: RenameGroupBodySchema,
    response: ChannelBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_FORBIDDEN'],
  },
  addMembers: {
    method: 'POST',
    path: '/v1/groups/{id}/members',
    auth: true,
    tag: 'groups',
    summary: 'Adds members to a group; any member may. Present users are ignored.',
    body: AddMembersBodySchema,
    response: ChannelBodySchema,
    status: 200,
    errors: ['NATTER_GROUP_FULL', 'NATTER_NOT_FOUND', 'NATTER_FORBIDDEN'],
  },
  removeMember: {
    method: 'DELETE',
    path: '/v1/groups/{id}/members/{userId}',
    auth: true,
    tag: 'groups',
    summary: 'Removes a member from a group (admins only).',
    status: 204,
    errors: ['NATTER_NOT_FOUND', 'NATTER_FORBIDDEN'],
  },
  leaveGroup: {
    method: 'POST',
    path: '/v1/groups/{id}/leave',
    auth: true,
    tag: 'groups',
    summary: 'Leaves a group.',
    status: 204,
    errors: ['NATTER_NOT_FOUND', 'NATTER_FORBIDDEN'],
  },
  discovery: {
    method: 'GET',
    path: '/v1/discovery',
    auth: false,
    tag: 'discovery',
    summary:
      'The chat nodes to connect to, best first (healthy, the asked region first, less loaded first); 503 when none is healthy.',
    query: DiscoveryQuerySchema,
    response: DiscoveryAnswerSchema,
    status: 200,
    errors: ['NATTER_UNAVAILABLE'],
  },
  ping: {
    method: 'GET',
    path: '/v1/ping',
    auth: false,
    tag: 'discovery',
    summary: 'This node answers at once (a client measures its round trip); 503 while it drains.',
    response: PingAnswerSchema,
    status: 200,
    errors: ['NATTER_UNAVAILABLE'],
  },
  openApi: {
    method: 'GET',
    path: '/v1/openapi.json',
    auth: false,
    tag: 'discovery',
    summary:
      'This API as an OpenAPI 3.1 document, generated from the same schemas the server validates with.',
    response: v.record(v.string(), v.unknown()),
    status: 200,
  },
  ...MEDIA_ROUTES,
  ...E2EE_ROUTES,
  ...MODERATION_ROUTES,
  ...SERVER_ROUTES,
  ...SERVER_MODERATION_ROUTES,
} as const satisfies Record<string, RouteSpec>;

/** The name of an HTTP API operation. */
export type RouteName = keyof typeof ROUTES;

type SchemaOutput<S> = S extends v.GenericSchema ? v.InferOutput<S> : undefined;
type SchemaInput<S> = S extends v.GenericSchema ? v.InferInput<S> : undefined;
type Field<R, K extends string> = R extends { readonly [P in K]: infer S } ? S : undefined;

/** The validated request body of a route (`undefined` when it takes none). */
export type RouteBody<N extends RouteName> = SchemaOutput<Field<(typeof ROUTES)[N], 'body'>>;
/** What a caller passes as the body of a route, before the schema's transforms. */
export type RouteBodyInput<N extends RouteName> = SchemaInput<Field<(typeof ROUTES)[N], 'body'>>;
/** The validated query of a route. */
export type RouteQuery<N extends RouteName> = SchemaOutput<Field<(typeof ROUTES)[N], 'query'>>;
/** The response body of a route (`undefined` for 204). */
export type RouteResponse<N extends RouteName> = SchemaOutput<Field<(typeof ROUTES)[N], 'response'>>;

/** Names of the `{name}` parameters of a path. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!);
}

/** Fills a path's `{name}` parameters (percent-encoded). */
export function fillPath(path: string, params: Readonly<Record<string, string>>): string {
  return path.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

/** Validates a value against a schema; the first issue becomes a `NATTER_BAD_REQUEST` message. */
export function parseBody<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (!result.success) {
    throw new NatterError('NATTER_BAD_REQUEST', describeIssues(result.issues, 'invalid request body'));
  }
  return result.output;
}

/** Validates a server's answer; a mismatch is a `NATTER_BAD_RESPONSE`. */
export function parseResponse<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  what: string,
): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (!result.success) {
    throw new NatterError(
      'NATTER_BAD_RESPONSE',
      `malformed ${what} answer: ${describeIssues(result.issues, 'invalid')}`,
    );
  }
  return result.output;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Follows `wrapped` (optional) and the first item of `pipe` down to the schema that names the base type. */
function baseSchema(schema: unknown): Record<string, unknown> | undefined {
  let current = schema;
  for (let depth = 0; isRecord(current) && depth < 16; depth++) {
    if (isRecord(current.wrapped)) current = current.wrapped;
    else if (Array.isArray(current.pipe) && current.pipe[0] !== current && isRecord(current.pipe[0]))
      current = current.pipe[0];
    else return current;
  }
  return undefined;
}

/**
 * Reads a query string for a query schema: numbers must be decimal integers, arrays are comma-separated,
 * the first value of a repeated parameter counts, unknown parameters are ignored.
 * @throws NatterError NATTER_BAD_REQUEST naming the parameter.
 */
export function parseQuery<S extends QuerySchema>(schema: S, params: URLSearchParams): v.InferOutput<S> {
  const entries = baseSchema(schema)?.entries;
  const raw: Record<string, unknown> = {};
  for (const [name, fieldSchema] of Object.entries(isRecord(entries) ? entries : {})) {
    const value = params.get(name);
    if (value === null || value === '') continue;
    const type = baseSchema(fieldSchema)?.type;
    if (type === 'number') {
      if (!/^\d{1,16}$/.test(value))
        throw new NatterError('NATTER_BAD_REQUEST', `${name} must be an integer`);
      raw[name] = Number(value);
    } else if (type === 'array') {
      raw[name] = value.split(',').filter((part) => part.length > 0);
    } else {
      raw[name] = value;
    }
  }
  return parseBody(schema, raw);
}
