import * as v from 'valibot';
import { ID_LIMITS } from '../limits.js';
import {
  ChannelSchema,
  ChannelSummarySchema,
  MemberReceiptSchema,
  MessageSchema,
  PresenceInfoSchema,
  UserProfileSchema,
} from '../schemas/model.js';
import { IdSchema, NameSchema, TimestampSchema, UintSchema, WellFormedText } from '../schemas/primitives.js';

/** Password length bounds: the shortest accepted at signup, the longest accepted anywhere. */
export const PASSWORD_LIMITS = Object.freeze({ minLength: 8, maxLength: 256 });

/** Usernames: 3-32 of `a-z 0-9 _ . -`, lower-cased before the check so `Alice` signs up as `alice`. */
export const UsernameSchema = v.pipe(
  v.string(),
  v.toLowerCase(),
  v.minLength(3, 'username must be 3-32 characters'),
  v.maxLength(32, 'username must be 3-32 characters'),
  v.regex(/^[a-z0-9_.-]+$/, 'username may contain only a-z, 0-9, _, . and -'),
);

const IdListSchema = v.pipe(
  v.array(IdSchema),
  v.maxLength(ID_LIMITS.maxIdsPerRequest, `at most ${ID_LIMITS.maxIdsPerRequest} user ids per request`),
);

// ---- request bodies ----

/** `POST /v1/auth/signup`. */
export const SignupBodySchema = v.object({
  username: UsernameSchema,
  password: v.pipe(
    v.string(),
    WellFormedText,
    v.minLength(PASSWORD_LIMITS.minLength, 'password must be 8-256 characters'),
    v.maxLength(PASSWORD_LIMITS.maxLength, 'password must be 8-256 characters'),
  ),
  displayName: v.optional(NameSchema),
  deviceId: v.optional(IdSchema),
});

/** `POST /v1/auth/login`. No minimum password length here: a policy change must not lock anyone out. */
export const LoginBodySchema = v.object({
  // Not the username rules: a malformed name simply matches no user, answered like a wrong password.
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.toLowerCase()),
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(PASSWORD_LIMITS.maxLength)),
  deviceId: v.optional(IdSchema),
});

/** `POST /v1/auth/refresh`. */
export const RefreshBodySchema = v.object({
  refreshToken: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
});

/** `POST /v1/auth/password`: the current password, and the new one under the signup rules. */
export const ChangePasswordBodySchema = v.object({
  currentPassword: v.pipe(v.string(), v.minLength(1), v.maxLength(PASSWORD_LIMITS.maxLength)),
  newPassword: v.pipe(
    v.string(),
    WellFormedText,
    v.minLength(PASSWORD_LIMITS.minLength, 'password must be 8-256 characters'),
    v.maxLength(PASSWORD_LIMITS.maxLength, 'password must be 8-256 characters'),
  ),
});

/** `POST /v1/auth/logout`. */
export const LogoutBodySchema = v.object({ allDevices: v.optional(v.boolean()) });

/** `PATCH /v1/me`. */
export const UpdateProfileBodySchema = v.object({ displayName: NameSchema });

/** `POST /v1/channels/direct`. */
export const OpenDirectBodySchema = v.object({
  userId: IdSchema,
  /** Opens (or creates) the pair's end-to-end encrypted channel instead of the plaintext one. */
  encrypted: v.optional(v.boolean()),
});

/** `POST /v1/channels/{id}/read`. */
export const MarkReadBodySchema = v.object({ seq: UintSchema });

/** `PUT /v1/channels/{id}/mute`. */
export const MuteBodySchema = v.object({ muted: v.boolean() });

/** `POST /v1/push/subscriptions`: a Web Push subscription or an app device token for the webhook. */
export const PushSubscriptionBodySchema = v.variant('kind', [
  v.object({
    kind: v.literal('webpush'),
    /** The browser's PushSubscription endpoint. */
    endpoint: v.pipe(v.string(), v.url(), v.maxLength(2048), v.startsWith('https://')),
    /** Its keys, base64url. */
    keys: v.object({
      p256dh: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{20,200}={0,2}$/)),
      auth: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{10,100}={0,2}$/)),
    }),
  }),
  v.object({
    kind: v.literal('webhook'),
    /** An app-defined device token (APNs/FCM token, say) the app's webhook forwards to. */
    token: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
    platform: v.optional(v.pipe(v.string(), v.maxLength(32))),
  }),
]);

/** `POST /v1/groups`. */
export const CreateGroupBodySchema = v.object({
  name: NameSchema,
  memberIds: IdListSchema,
  /** An end-to-end encrypted group (MLS, docs/e2ee.md); fixed at creation. */
  encrypted: v.optional(v.boolean()),
});

/** `PATCH /v1/groups/{id}`. */
export const RenameGroupBodySchema = v.object({ name: NameSchema });

/** `POST /v1/groups/{id}/members`. */
export const AddMembersBodySchema = v.object({
  userIds: v.pipe(IdListSchema, v.minLength(1, 'userIds must not be empty')),
});

// ---- response bodies ----

/** What signup, login and refresh answer: the user, the device and a token pair. */
export const SessionBodySchema = v.object({
  user: UserProfileSchema,
  deviceId: IdSchema,
  /** Bearer token for the API and the WebSocket. */
  accessToken: v.string(),
  /** One-time token to get the next pair (rotated on every refresh). */
  refreshToken: v.string(),
  /** When `accessToken` expires, ms since the epoch. */
  expiresAt: TimestampSchema,
});

/** One user's profile. */
export const UserBodySchema = v.object({ user: UserProfileSchema });
/** Several users' profiles. */
export const UsersBodySchema = v.object({ users: v.array(UserProfileSchema) });
/** The caller's channel list. */
export const ChannelListBodySchema = v.object({ channels: v.array(ChannelSummarySchema) });
/** One channel. */
export const ChannelBodySchema = v.object({ channel: ChannelSchema });
/** A page of a channel's messages, ascending by `seq`. */
export const HistoryPageBodySchema = v.object({
  messages: v.array(MessageSchema),
  hasMoreBefore: v.boolean(),
  hasMoreAfter: v.boolean(),
});
/** The read marker after `POST .../read`, and the channel's remaining unread count. */
export const ReadResultBodySchema = v.object({ readSeq: UintSchema, unread: UintSchema });
/** Every member's markers in a channel. */
export const ReceiptsBodySchema = v.object({ receipts: v.array(MemberReceiptSchema) });
/** Messages across channels (mentions, search), newest first. */
export const MessageListBodySchema = v.object({ messages: v.array(MessageSchema) });
/** Presence of users. */
export const PresenceListBodySchema = v.object({ users: v.array(PresenceInfoSchema) });
/** The VAPID public key browsers subscribe with. */
export const VapidKeyBodySchema = v.object({ publicKey: v.string() });
/** A channel's mute state for the caller. */
export const MuteResultBodySchema = v.object({ channelId: IdSchema, muted: v.boolean() });
/** The body of every error response. */
export const ErrorBodySchema = v.object({
  error: v.object({
    code: v.pipe(v.string(), v.startsWith('NATTER_')),
    message: v.string(),
    /** Set for 429 and 503: how long to wait before retrying, ms. */
    retryAfterMs: v.optional(UintSchema),
  }),
});

export type SignupBody = v.InferOutput<typeof SignupBodySchema>;
export type LoginBody = v.InferOutput<typeof LoginBodySchema>;
export type RefreshBody = v.InferOutput<typeof RefreshBodySchema>;
export type LogoutBody = v.InferOutput<typeof LogoutBodySchema>;
/** Body of `POST /v1/auth/password`. */
export type ChangePasswordBody = v.InferOutput<typeof ChangePasswordBodySchema>;
export type UpdateProfileBody = v.InferOutput<typeof UpdateProfileBodySchema>;
export type OpenDirectBody = v.InferOutput<typeof OpenDirectBodySchema>;
export type MarkReadBody = v.InferOutput<typeof MarkReadBodySchema>;
export type MuteBody = v.InferOutput<typeof MuteBodySchema>;
/** A Web Push subscription, or a device token for the server's push webhook. */
export type PushSubscriptionInput = v.InferOutput<typeof PushSubscriptionBodySchema>;
export type CreateGroupBody = v.InferOutput<typeof CreateGroupBodySchema>;
export type RenameGroupBody = v.InferOutput<typeof RenameGroupBodySchema>;
export type AddMembersBody = v.InferOutput<typeof AddMembersBodySchema>;
/** What signup, login and refresh return: the user, the device and a token pair. */
export type Session = v.InferOutput<typeof SessionBodySchema>;
/** A page of a channel's messages, ascending by `seq`. */
export type HistoryPage = v.InferOutput<typeof HistoryPageBodySchema>;
/** The body of every error response. */
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;
