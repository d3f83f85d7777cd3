import * as v from 'valibot';
import { ReportReasonSchema } from '../http/moderation.js';
import { ChannelSchema, MessageSchema } from '../schemas/model.js';
import { IdSchema, SeqSchema, TimestampSchema } from '../schemas/primitives.js';

/**
 * Events an app's backend learns of through event webhooks (and `GET /v1/server/events`): one per committed
 * change, whatever device or API made it. Each carries a unique, time-sortable `id`: deliveries are
 * at-least-once, so a receiver dedupes by it.
 */
export const EVENT_DATA_SCHEMAS = {
  /** A text or system message was posted. */
  'message.created': v.object({ message: MessageSchema }),
  /** Its author edited a message; `message` is the message after the edit. */
  'message.edited': v.object({ message: MessageSchema }),
  /** A message was deleted for everyone; `message` is the tombstone (no content). */
  'message.deleted': v.object({ message: MessageSchema }),
  /** Users joined a group (added by `actorId`, or by the app through the server API). */
  'member.added': v.object({ channelId: IdSchema, actorId: IdSchema, userIds: v.array(IdSchema) }),
  /** A user left a group (`left: true`) or was removed by `actorId`. */
  'member.removed': v.object({ channelId: IdSchema, actorId: IdSchema, userId: IdSchema, left: v.boolean() }),
  /** A group or a direct channel was created, with its first members. */
  'channel.created': v.object({ channel: ChannelSchema }),
  /**
   * A user reported another user, or a message (then `messageId`, `channelId` and `seq` name it and
   * `userId` is its sender), to the app's moderators. The stored report (`GET /v1/server/reports`) keeps
   * a snapshot of the message's text.
   */
  'user.reported': v.object({
    reportId: IdSchema,
    reporterId: IdSchema,
    userId: IdSchema,
    channelId: v.optional(IdSchema),
    messageId: v.optional(IdSchema),
    seq: v.optional(SeqSchema),
    reason: ReportReasonSchema,
    note: v.optional(v.pipe(v.string(), v.maxLength(1000))),
  }),
} as const;

/** The type of an event, e.g. `message.created`. */
export type EventType = keyof typeof EVENT_DATA_SCHEMAS;

/** Every event type, in the order the docs list them. */
export const EVENT_TYPES: readonly EventType[] = Object.keys(EVENT_DATA_SCHEMAS) as EventType[];

/** The data an event of type `T` carries. */
export type EventData<T extends EventType> = v.InferOutput<(typeof EVENT_DATA_SCHEMAS)[T]>;

/** An event as the server emits it, before it has an id: what `events.emit()` in server-core takes. */
export type EventInput = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/** Event ids: `evt_` and a time-sortable id, so ids order events by when they were emitted. */
export const EventIdSchema = v.pipe(IdSchema, v.startsWith('evt_'));

function envelope<T extends EventType>(type: T) {
  return v.object({
    /** Unique and time-sortable: dedupe deliveries by it, and page `GET /v1/server/events` with it. */
    id: EventIdSchema,
    type: v.literal(type),
    /** When the change was committed, ms since the epoch. */
    createdAt: TimestampSchema,
    data: EVENT_DATA_SCHEMAS[type],
  });
}

/** One event, as a webhook's JSON body and an item of `GET /v1/server/events`. */
export const EventSchema = v.variant('type', [
  envelope('message.created'),
  envelope('message.edited'),
  envelope('message.deleted'),
  envelope('member.added'),
  envelope('member.removed'),
  envelope('channel.created'),
  envelope('user.reported'),
]);

/** One event, as a webhook's JSON body and an item of `GET /v1/server/events`. */
export type NatterEvent = v.InferOutput<typeof EventSchema>;

/** Headers of an event webhook request besides the signature (`X-Natter-Signature`, as push's webhook). */
export const EVENT_HEADERS = Object.freeze({
  /** The event's id, to dedupe without parsing the body. */
  id: 'X-Natter-Event-Id',
  /** The event's type. */
  type: 'X-Natter-Event-Type',
  /** Which attempt this is: 1, 2, ... */
  attempt: 'X-Natter-Delivery-Attempt',
});
