import * as v from 'valibot';
import { AttachmentSchema } from './media.js';
import { IdSchema, NameSchema, SeqSchema, TimestampSchema, UintSchema } from './primitives.js';

/** The kinds of channel: a 1-1 conversation or a group of at most `maxGroupMembers`. */
export const ChannelKindSchema = v.picklist(['direct', 'group']);

/** What a system message records. System messages live in the channel's sequence like any other. */
export const SystemEventSchema = v.variant('action', [
  v.object({
    action: v.literal('created'),
    actorId: IdSchema,
    name: v.nullable(v.string()),
    memberIds: v.array(IdSchema),
  }),
  v.object({ action: v.literal('members_added'), actorId: IdSchema, memberIds: v.array(IdSchema) }),
  v.object({ action: v.literal('member_removed'), actorId: IdSchema, memberId: IdSchema }),
  v.object({ action: v.literal('member_left'), actorId: IdSchema }),
  v.object({ action: v.literal('renamed'), actorId: IdSchema, name: v.string() }),
  /** A notice the app posted through the server API; the message's `text` is the notice. */
  v.object({ action: v.literal('notice'), actorId: IdSchema }),
]);

/** A stored message as every device sees it. */
export const MessageSchema = v.object({
  /** Globally unique, time-sortable id (26-char Crockford base32, ULID layout). */
  id: IdSchema,
  /** The channel the message belongs to. */
  channelId: IdSchema,
  /** The channel's local sequence: 1, 2, 3, ... with no gaps; orders messages within the channel. */
  seq: SeqSchema,
  /** The user who sent it (the actor, for system messages). */
  senderId: IdSchema,
  /** The idempotency key the sending device chose, or null for system messages. */
  clientMsgId: v.nullable(IdSchema),
  /** `text` for user messages, `system` for membership and rename events. */
  kind: v.picklist(['text', 'system']),
  /** The message text (empty for system messages, except an app's `notice`). */
  text: v.string(),
  /** User ids @-mentioned in the text. */
  mentions: v.array(IdSchema),
  /** Set on system messages. */
  system: v.nullable(SystemEventSchema),
  /** Server time of the commit, ms since the Unix epoch. */
  createdAt: TimestampSchema,
  /** Files, photos and videos the message carries (absent when none). */
  attachments: v.optional(v.array(AttachmentSchema)),
});

/** A channel as its members see it. */
export const ChannelSchema = v.object({
  id: IdSchema,
  kind: ChannelKindSchema,
  /** Group name; null for direct channels. */
  name: v.nullable(v.string()),
  createdBy: IdSchema,
  createdAt: TimestampSchema,
  /** User ids of the current members. */
  memberIds: v.array(IdSchema),
});

/** A channel in a user's channel list. */
export const ChannelSummarySchema = v.object({
  ...ChannelSchema.entries,
  /** Highest `seq` in the channel. */
  lastSeq: UintSchema,
  /** The newest message, if any. */
  lastMessage: v.nullable(MessageSchema),
  /** The user's read marker: every message with `seq <= readSeq` counts as read. */
  readSeq: UintSchema,
  /** Messages after the read marker not sent by the user. */
  unread: UintSchema,
});

/** A user's public profile. */
export const UserProfileSchema = v.object({
  id: IdSchema,
  username: v.string(),
  displayName: v.string(),
  createdAt: TimestampSchema,
});

/** A user's presence as another user may see it. */
export const PresenceInfoSchema = v.object({
  userId: IdSchema,
  /** `offline` for users with no live device, and for invisible users. */
  status: v.picklist(['online', 'away', 'offline']),
  /** Last time the user was seen active, ms since the epoch; null if never. */
  lastActiveAt: v.nullable(TimestampSchema),
});

/** A member's read and delivery markers in a channel. */
export const MemberReceiptSchema = v.object({
  userId: IdSchema,
  /** Every message with `seq <= readSeq` has been read by the member. */
  readSeq: UintSchema,
  /** Every message with `seq <= deliveredSeq` has reached one of the member's devices. */
  deliveredSeq: UintSchema,
});

/** The kinds of channel. */
export type ChannelKind = v.InferOutput<typeof ChannelKindSchema>;
/** What a system message records. */
export type SystemEvent = v.InferOutput<typeof SystemEventSchema>;
/** A stored message as every device sees it. */
export type Message = v.InferOutput<typeof MessageSchema>;
/** A channel as its members see it. */
export type Channel = v.InferOutput<typeof ChannelSchema>;
/** A channel in a user's channel list. */
export type ChannelSummary = v.InferOutput<typeof ChannelSummarySchema>;
/** A user's public profile. */
export type UserProfile = v.InferOutput<typeof UserProfileSchema>;
/** A user's presence as another user may see it. */
export type PresenceInfo = v.InferOutput<typeof PresenceInfoSchema>;
/** A member's read and delivery markers in a channel. */
export type MemberReceipt = v.InferOutput<typeof MemberReceiptSchema>;

export { NameSchema };
