import * as v from 'valibot';
import { EventSchema } from '../events/events.js';
import { ID_LIMITS } from '../limits.js';
import { ChannelSchema, MessageSchema, UserProfileSchema } from '../schemas/model.js';
import { IdSchema, NameSchema, WellFormedText } from '../schemas/primitives.js';
import { SessionBodySchema, UsernameSchema } from './bodies.js';
import type { RouteSpec } from './routes.js';

/**
 * What a server API key may do. Keys are configured on the server with the scopes they hold; a call with a
 * key lacking its route's scope answers 403 `NATTER_INSUFFICIENT_SCOPE`.
 */
export const SERVER_API_SCOPES = [
  /** Create, update, deactivate and reactivate users. */
  'users:write',
  /** Create channels and change their members. */
  'channels:write',
  /** Post messages and system messages, as a user or as the app. */
  'messages:write',
  /** Issue access and refresh tokens for a user (natter's own tokens). */
  'tokens:issue',
  /** Read (replay) the event log. */
  'events:read',
  /** List and resolve users' reports (moderation). */
  'reports:write',
] as const;

/** One scope of a server API key. */
export type ServerApiScope = (typeof SERVER_API_SCOPES)[number];

const IdListSchema = v.pipe(
  v.array(IdSchema),
  v.maxLength(ID_LIMITS.maxIdsPerRequest, `at most ${ID_LIMITS.maxIdsPerRequest} user ids per request`),
);

/** `POST /v1/server/users`: the app's own id for the user, so no mapping table is needed. */
export const ServerCreateUserBodySchema = v.object({
  id: IdSchema,
  username: UsernameSchema,
  displayName: v.optional(NameSchema),
});

/** `PATCH /v1/server/users/{id}`. */
export const ServerUpdateUserBodySchema = v.object({ displayName: NameSchema });

/** `POST /v1/server/channels`: a group with an owner (its first admin), or the direct channel of two users. */
export const ServerCreateChannelBodySchema = v.variant('kind', [
  v.object({
    kind: v.literal('group'),
    name: NameSchema,
    /** The group's first admin; must exist. */
    ownerId: IdSchema,
    memberIds: IdListSchema,
  }),
  v.object({
    kind: v.literal('direct'),
    userIds: v.pipe(
      v.tuple([IdSchema, IdSchema]),
      v.check(([a, b]) => a !== b, 'two different users'),
    ),
  }),
]);

/** `POST /v1/server/channels/{id}/members`. */
export const ServerAddMembersBodySchema = v.object({
  userIds: v.pipe(IdListSchema, v.minLength(1, 'userIds must not be empty')),
});

/**
 * `POST /v1/server/channels/{id}/messages`. With `userId`, the message is that user's (they must be a
 * member); without, it is the app's. `system: true` makes it a system notice (kind `system`, action
 * `notice`, the text shown as an event line rather than a chat bubble).
 */
export const ServerPostMessageBodySchema = v.object({
  text: v.pipe(v.string(), v.minLength(1, 'text must not be empty'), WellFormedText),
  userId: v.optional(IdSchema),
  system: v.optional(v.boolean()),
  /** Idempotency key: a retried call with the same key returns the first message instead of a second. */
  clientMsgId: v.optional(IdSchema),
  mentions: v.optional(IdListSchema),
});

/** `POST /v1/server/users/{id}/tokens`. */
export const ServerIssueTokensBodySchema = v.object({ deviceId: v.optional(IdSchema) });

/** `GET /v1/server/events?after=&limit=`: events after an event id, oldest first. */
export const ServerEventsQuerySchema = v.object({
  after: v.optional(IdSchema),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(500))),
});

/** A user's profile as the server API sees it: with `deactivatedAt` when deactivated. */
export const ServerUserSchema = v.object({
  ...UserProfileSchema.entries,
  deactivatedAt: v.optional(v.number()),
});
/** One user, for the server API. */
export const ServerUserBodySchema = v.object({ user: ServerUserSchema });
/** One channel. */
export const ServerChannelBodySchema = v.object({ channel: ChannelSchema });
/** The stored message. */
export const ServerMessageBodySchema = v.object({ message: MessageSchema });
/** A page of events; `hasMore` says whether to ask again with the last id as `after`. */
export const ServerEventsBodySchema = v.object({ events: v.array(EventSchema), hasMore: v.boolean() });

export type ServerCreateUserBody = v.InferOutput<typeof ServerCreateUserBodySchema>;
export type ServerUpdateUserBody = v.InferOutput<typeof ServerUpdateUserBodySchema>;
export type ServerCreateChannelBody = v.InferOutput<typeof ServerCreateChannelBodySchema>;
export type ServerAddMembersBody = v.InferOutput<typeof ServerAddMembersBodySchema>;
export type ServerPostMessageBody = v.InferOutput<typeof ServerPostMessageBodySchema>;
export type ServerIssueTokensBody = v.InferOutput<typeof ServerIssueTokensBodySchema>;
/** A user's profile as the server API sees it. */
export type ServerUser = v.InferOutput<typeof ServerUserSchema>;

/**
 * The server API for app backends: routes under `/v1/server/`, authenticated with an API key
 * (`Authorization: Bearer <key>`) holding the route's scope. Part of {@link ROUTES}, so the server's router,
 * `@natter/server-client` and the OpenAPI document all come from it.
 */
export const SERVER_ROUTES = {
  serverCreateUser: {
    method: 'POST',
    path: '/v1/server/users',
    auth: 'apiKey',
    scope: 'users:write',
    tag: 'server',
    summary: "Creates a user with the app's own id (no password: they log in through the app's tokens).",
    body: ServerCreateUserBodySchema,
    response: ServerUserBodySchema,
    status: 201,
    errors: ['NATTER_CONFLICT', 'NATTER_INSUFFICIENT_SCOPE'],
  },
  serverUpdateUser: {
    method: 'PATCH',
    path: '/v1/server/users/{id}',
    auth: 'apiKey',
    scope: 'users:write',
    tag: 'server',
    summary: "Updates a user's display name.",
    body: ServerUpdateUserBodySchema,
    response: ServerUserBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_INSUFFICIENT_SCOPE'],
  },
  serverDeactivateUser: {
    method: 'POST',
    path: '/v1/server/users/{id}/deactivate',
    auth: 'apiKey',
    scope: 'users:write',
    tag: 'server',
    summary:
      'Deactivates a user: their tokens are refused, sockets closed, sessions revoked; their messages stay.',
    response: ServerUserBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_INSUFFICIENT_SCOPE'],
  },
  serverReactivateUser: {
    method: 'POST',
    path: '/v1/server/users/{id}/reactivate',
    auth: 'apiKey',
    scope: 'users:write',
    tag: 'server',
    summary: 'Reactivates a deactivated user.',
    response: ServerUserBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_INSUFFICIENT_SCOPE'],
  },
  serverIssueTokens: {
    method: 'POST',
    path: '/v1/server/users/{id}/tokens',
    auth: 'apiKey',
    scope: 'tokens:issue',
    tag: 'server',
    summary:
      "Issues a session (access and refresh token) for a user, for apps that hand natter's own tokens to their clients (404 without the token service).",
    body: ServerIssueTokensBodySchema,
    response: SessionBodySchema,
    status: 201,
    errors: ['NATTER_NOT_FOUND', 'NATTER_INSUFFICIENT_SCOPE'],
  },
  serverCreateChannel: {
    method: 'POST',
    path: '/v1/server/channels',
    auth: 'apiKey',
    scope: 'channels:write',
    tag: 'server',
    summary: 'Creates a group with an owner, or opens the direct channel of two users.',
    body: ServerCreateChannelBodySchema,
    response: ServerChannelBodySchema,
    status: 201,
    errors: ['NATTER_NOT_FOUND', 'NATTER_GROUP_FULL', 'NATTER_INSUFFICIENT_SCOPE'],
  },
  serverAddMembers: {
    method: 'POST',
    path: '/v1/server/channels/{id}/members',
    auth: 'apiKey',
    scope: 'channels:write',
    tag: 'server',
    summary: 'Adds users to a group, as the app; present members are ignored.',
    body: ServerAddMembersBodySchema,
    response: ServerChannelBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_GROUP_FULL', 'NATTER_FORBIDDEN', 'NATTER_INSUFFICIENT_SCOPE'],
  },
  serverRemoveMember: {
    method: 'DELETE',
    path: '/v1/server/channels/{id}/members/{userId}',
    auth: 'apiKey',
    scope: 'channels:write',
    tag: 'server',
    summary: 'Removes a user from a group, as the app.',
    status: 204,
    errors: ['NATTER_NOT_FOUND', 'NATTER_FORBIDDEN', 'NATTER_INSUFFICIENT_SCOPE'],
  },
  serverPostMessage: {
    method: 'POST',
    path: '/v1/server/channels/{id}/messages',
    auth: 'apiKey',
    scope: 'messages:write',
    tag: 'server',
    summary: 'Posts a message or a system notice, as a member or as the app; idempotent with `clientMsgId`.',
    body: ServerPostMessageBodySchema,
    response: ServerMessageBodySchema,
    status: 201,
    errors: [
      'NATTER_NOT_FOUND',
      'NATTER_MESSAGE_TOO_LARGE',
      'NATTER_E2EE_CHANNEL_MISMATCH',
      'NATTER_INSUFFICIENT_SCOPE',
    ],
  },
  serverEvents: {
    method: 'GET',
    path: '/v1/server/events',
    auth: 'apiKey',
    scope: 'events:read',
    tag: 'server',
    summary:
      'Events after `after` (an event id), oldest first, from the retained event log: replay what a webhook receiver missed (404 without event webhooks).',
    query: ServerEventsQuerySchema,
    response: ServerEventsBodySchema,
    status: 200,
    errors: ['NATTER_NOT_FOUND', 'NATTER_INSUFFICIENT_SCOPE'],
  },
} as const satisfies Record<string, RouteSpec>;
