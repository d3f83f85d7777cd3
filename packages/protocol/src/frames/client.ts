import * as v from 'valibot';
import { ID_LIMITS, MEDIA_LIMITS } from '../limits.js';
import { EmojiSchema } from '../schemas/emoji.js';
import { AttachmentRefSchema } from '../schemas/media.js';
import {
  ChosenStatusSchema,
  IdSchema,
  RequestIdSchema,
  SeqSchema,
  UintSchema,
  WellFormedText,
} from '../schemas/primitives.js';

const Limit = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)));

/**
 * `send`: append a message to a channel. Retrying with the same `clientMsgId` returns the original ack.
 * The text may be empty only when the message carries attachments (uploads of the sender's, each once).
 */
export const SendFrameSchema = v.pipe(
  v.object({
    t: v.literal('send'),
    rid: RequestIdSchema,
    channelId: IdSchema,
    clientMsgId: IdSchema,
    // Size is checked in bytes by the server against its configured limit; this bound only stops absurd input early.
    text: v.pipe(v.string(), v.maxLength(1_000_000), WellFormedText),
    mentions: v.optional(v.pipe(v.array(IdSchema), v.maxLength(ID_LIMITS.maxMentions))),
    /** Answers the message with this `seq` in the same channel (it gets a preview of it). */
    replyTo: v.optional(SeqSchema),
    /** Posts into the thread of the message with this `seq` (a text message that is not itself a reply in a thread). */
    threadRoot: v.optional(SeqSchema),
    attachments: v.optional(
      v.pipe(v.array(AttachmentRefSchema), v.maxLength(MEDIA_LIMITS.maxAttachmentsPerMessage)),
    ),
  }),
  v.check((f) => f.text.length > 0 || (f.attachments?.length ?? 0) > 0, 'text must not be empty'),
);

/**
 * `edit`: the author replaces the text (and mentions) of their message. `clientId` is the mutation's
 * idempotency key: a retry with it gets the original answer and is not applied twice.
 */
export const EditFrameSchema = v.object({
  t: v.literal('edit'),
  rid: RequestIdSchema,
  clientId: IdSchema,
  channelId: IdSchema,
  seq: SeqSchema,
  text: v.pipe(v.string(), v.minLength(1), v.maxLength(1_000_000)),
  mentions: v.optional(v.pipe(v.array(IdSchema), v.maxLength(ID_LIMITS.maxMentions))),
});

/** `delete`: deletes a message for everyone (its author, or a group admin). `clientId` as for `edit`. */
export const DeleteFrameSchema = v.object({
  t: v.literal('delete'),
  rid: RequestIdSchema,
  clientId: IdSchema,
  channelId: IdSchema,
  seq: SeqSchema,
});

/** `react`: adds or removes the caller's reaction with `emoji`; adding twice is one reaction. */
export const ReactFrameSchema = v.object({
  t: v.literal('react'),
  rid: RequestIdSchema,
  clientId: IdSchema,
  channelId: IdSchema,
  seq: SeqSchema,
  emoji: EmojiSchema,
  op: v.picklist(['add', 'remove']),
});

/** `reactors`: who reacted to a message with `emoji`, by user id, paged with `after` (the last id seen). */
export const ReactorsFrameSchema = v.object({
  t: v.literal('reactors'),
  rid: RequestIdSchema,
  channelId: IdSchema,
  seq: SeqSchema,
  emoji: EmojiSchema,
  after: v.optional(IdSchema),
  limit: Limit,
});

/** `sync`: entries of the caller's sync log after position `after`. Omit `epoch` only with `after: 0`. */
export const SyncFrameSchema = v.object({
  t: v.literal('sync'),
  rid: RequestIdSchema,
  epoch: v.optional(v.pipe(v.string(), v.maxLength(64))),
  after: UintSchema,
  limit: Limit,
});

/** `history`: a page of a channel; at most one of `before`, `after`, `around` (none: the latest page). */
export const HistoryFrameSchema = v.pipe(
  v.object({
    t: v.literal('history'),
    rid: RequestIdSchema,
    channelId: IdSchema,
    before: v.optional(SeqSchema),
    after: v.optional(UintSchema),
    around: v.optional(SeqSchema),
    limit: Limit,
    /** Pages the replies of this thread root instead of the channel (anchors are reply seqs). */
    threadRoot: v.optional(SeqSchema),
  }),
  v.check(
    (f) => [f.before, f.after, f.around].filter((x) => x !== undefined).length <= 1,
    'at most one of before, after, around',
  ),
);

/** `ping`: heartbeat; answered with `pong`. */
export const PingFrameSchema = v.object({ t: v.literal('ping'), rid: RequestIdSchema });

/** `typing`: the user is typing in a channel (or stopped, with `active: false`). Answered only on error. */
export const TypingFrameSchema = v.object({
  t: v.literal('typing'),
  rid: RequestIdSchema,
  channelId: IdSchema,
  active: v.optional(v.boolean()),
});

/** `read`: raises the caller's read marker in a channel to `seq`; answered with `read.ok`. */
export const ReadFrameSchema = v.object({
  t: v.literal('read'),
  rid: RequestIdSchema,
  channelId: IdSchema,
  seq: UintSchema,
});

/** `received`: the device has stored messages up to `seq` (delivery receipt). Answered only on error. */
export const ReceivedFrameSchema = v.object({
  t: v.literal('received'),
  rid: RequestIdSchema,
  channelId: IdSchema,
  seq: UintSchema,
});

/** `presence.get`: presence of some users, or of a channel's members; answered with `presence.list`. */
export const PresenceGetFrameSchema = v.pipe(
  v.object({
    t: v.literal('presence.get'),
    rid: RequestIdSchema,
    userIds: v.optional(v.pipe(v.array(IdSchema), v.maxLength(200))),
    channelId: v.optional(IdSchema),
  }),
  v.check(
    (f) => (f.userIds === undefined) !== (f.channelId === undefined),
    'exactly one of userIds, channelId',
  ),
);

/** `status`: sets the caller's chosen status; answered with `status.ok`. */
export const StatusFrameSchema = v.object({
  t: v.literal('status'),
  rid: RequestIdSchema,
  status: ChosenStatusSchema,
});

/** Schemas of every client frame, by `t`. */
export const CLIENT_FRAME_SCHEMAS = {
  send: SendFrameSchema,
  sync: SyncFrameSchema,
  history: HistoryFrameSchema,
  ping: PingFrameSchema,
  typing: TypingFrameSchema,
  read: ReadFrameSchema,
  received: ReceivedFrameSchema,
  'presence.get': PresenceGetFrameSchema,
  status: StatusFrameSchema,
  edit: EditFrameSchema,
  delete: DeleteFrameSchema,
  react: ReactFrameSchema,
  reactors: ReactorsFrameSchema,
} as const;

/** The type tag of a client frame. */
export type ClientFrameType = keyof typeof CLIENT_FRAME_SCHEMAS;

/** The client frame with type tag `T`. */
export type ClientFrameOf<T extends ClientFrameType> = v.InferOutput<(typeof CLIENT_FRAME_SCHEMAS)[T]>;

/** Any frame a client may send. */
export type ClientFrame = { [T in ClientFrameType]: ClientFrameOf<T> }[ClientFrameType];

export type SendFrame = ClientFrameOf<'send'>;
export type SyncFrame = ClientFrameOf<'sync'>;
export type HistoryFrame = ClientFrameOf<'history'>;
export type PingFrame = ClientFrameOf<'ping'>;
export type TypingFrame = ClientFrameOf<'typing'>;
export type ReadFrame = ClientFrameOf<'read'>;
export type ReceivedFrame = ClientFrameOf<'received'>;
export type PresenceGetFrame = ClientFrameOf<'presence.get'>;
export type StatusFrame = ClientFrameOf<'status'>;
export type EditFrame = ClientFrameOf<'edit'>;
export type DeleteFrame = ClientFrameOf<'delete'>;
export type ReactFrame = ClientFrameOf<'react'>;
export type ReactorsFrame = ClientFrameOf<'reactors'>;
