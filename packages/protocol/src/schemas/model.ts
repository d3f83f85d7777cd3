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
    /** Set on the creation of an end-to-end encrypted channel, so members learn it from the log alone. */
    encrypted: v.optional(v.literal(true)),
  }),
  v.object({ action: v.literal('members_added'), actorId: IdSchema, memberIds: v.array(IdSchema) }),
  v.object({ action: v.literal('member_removed'), actorId: IdSchema, memberId: IdSchema }),
  v.object({ action: v.literal('member_left'), actorId: IdSchema }),
  v.object({ action: v.literal('renamed'), actorId: IdSchema, name: v.string() }),
  /** A notice the app posted through the server API; the message's `text` is the notice. */
  v.object({ action: v.literal('notice'), actorId: IdSchema }),
  /** An admin set the group's slow mode: one message per `seconds` per member (0 turns it off). */
  v.object({ action: v.literal('slow_mode'), actorId: IdSchema, seconds: UintSchema }),
  /**
   * An MLS application message of an encrypted channel (docs/e2ee.md): `ciphertext` (base64) is all the
   * server has; edits, deletes and reactions travel inside such messages too. Sent by `deviceId`. The entry's
   * `attachments` name the opaque uploads of the encrypted files it carries (ids and sizes; the keys, names
   * and types are inside the ciphertext), so the channel's members may download them.
   */
  v.object({
    action: v.literal('mls_message'),
    actorId: IdSchema,
    deviceId: IdSchema,
    ciphertext: v.string(),
  }),
  /**
   * An MLS commit the server ordered: it started `epoch`; `added` devices find their Welcome in their
   * queue (`GET /v1/devices/me/queue`) and read the log after this entry.
   */
  v.object({
    action: v.literal('mls_commit'),
    actorId: IdSchema,
    deviceId: IdSchema,
    epoch: UintSchema,
    commit: v.string(),
    added: v.array(v.object({ userId: IdSchema, deviceId: IdSchema })),
    removed: v.array(v.object({ userId: IdSchema, deviceId: IdSchema })),
  }),
]);

/**
 * What a reply shows of its parent: filled in when the reply is read, from the parent as it is then, so
 * an edit of the parent shows in its replies and a delete leaves only `deleted: true`.
 */
export const ReplyPreviewSchema = v.object({
  senderId: IdSchema,
  /** The parent's first `ID_LIMITS.replyPreviewChars` characters; empty once it is deleted. */
  text: v.string(),
  deleted: v.boolean(),
});

/** One emoji's reactions on a message, as one reader sees them. */
export const ReactionSummarySchema = v.object({
  emoji: v.string(),
  count: UintSchema,
  /** True when the reader is one of those who reacted with this emoji. */
  me: v.boolean(),
});

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
  // The lifecycle fields below are optional so that stores and clients of protocol 1 without them stay
  // valid: an absent field means "never happened" (never edited, not deleted, not a reply, no replies).
  /** Time of the latest edit; absent when never edited. */
  editedAt: v.optional(TimestampSchema),
  /** 1 as sent, plus one per edit; absent means 1. */
  version: v.optional(SeqSchema),
  /** Set on a deleted message (a tombstone: `text` is empty, `mentions` is empty). */
  deletedAt: v.optional(TimestampSchema),
  /** Who deleted it: the author, or a group admin. */
  deletedBy: v.optional(IdSchema),
  /** The `seq` of the message this one answers, in the same channel. */
  replyTo: v.optional(SeqSchema),
  /** The parent of `replyTo` as it is when this message is read. */
  replyPreview: v.optional(ReplyPreviewSchema),
  /** The `seq` of the thread's root when this message is a thread reply. */
  threadRoot: v.optional(SeqSchema),
  /** On a thread root: how many replies the thread has. */
  threadReplies: v.optional(UintSchema),
  /** On a thread root: time of the newest reply. */
  threadLastReplyAt: v.optional(TimestampSchema),
  /**
   * On a thread root: `seq` of the newest reply. A device that read the root after some replies were
   * counted raises the counters only for replies with a higher `seq`, so nothing is counted twice.
   */
  threadLastReplySeq: v.optional(SeqSchema),
  /** Reactions as the reader sees them (in history pages; sync entries carry changes instead). */
  reactions: v.optional(v.array(ReactionSummarySchema)),
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
  /** A group in slow mode: each member may send one message per this many seconds (admins exempt). */
  slowModeSeconds: v.optional(SeqSchema),
  /** End-to-end encrypted (MLS; docs/e2ee.md): messages are `mls_message` entries, fixed at creation. */
  encrypted: v.optional(v.literal(true)),
  /** For an encrypted channel: the current MLS epoch (0 at creation, +1 per accepted commit). */
  mlsEpoch: v.optional(UintSchema),
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
/** What a reply shows of its parent. */
export type ReplyPreview = v.InferOutput<typeof ReplyPreviewSchema>;
/** One emoji's reactions on a message, as one reader sees them. */
export type ReactionSummary = v.InferOutput<typeof ReactionSummarySchema>;
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
