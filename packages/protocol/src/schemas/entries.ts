import * as v from 'valibot';
import { EmojiSchema } from './emoji.js';
import { MessageSchema } from './model.js';
import { IdSchema, SeqSchema } from './primitives.js';

/**
 * Schemas of the sync-log entry kinds this version knows. An entry is one event about one message in a
 * user's sync log; every device of the user sees the same entries with the same `pos`, so `pos` is the
 * device's `cur_max_message_id`.
 */
export const ENTRY_SCHEMAS = {
  /** A new message (text or system). */
  message: v.object({
    /** Position in the user's sync log: 1, 2, 3, ... with no gaps, in commit order. */
    pos: SeqSchema,
    kind: v.literal('message'),
    /** The message this entry delivers. */
    message: MessageSchema,
  }),
  /**
   * A message was edited. `message` is the message as stored when the entry is read (a device that
   * syncs late gets the newest text at once; if it was deleted since, the tombstone).
   */
  edited: v.object({
    pos: SeqSchema,
    kind: v.literal('edited'),
    message: MessageSchema,
  }),
  /**
   * A message was deleted for everyone: `message` is its tombstone (`deletedAt`, `deletedBy`, empty text
   * and mentions). A device replaces every copy it holds with it.
   */
  deleted: v.object({
    pos: SeqSchema,
    kind: v.literal('deleted'),
    message: MessageSchema,
  }),
  /** A member added (`added: true`) or removed a reaction. */
  reaction: v.object({
    pos: SeqSchema,
    kind: v.literal('reaction'),
    channelId: IdSchema,
    seq: SeqSchema,
    userId: IdSchema,
    emoji: EmojiSchema,
    added: v.boolean(),
  }),
} as const;

/** The kind tag of a known sync entry. */
export type EntryKind = keyof typeof ENTRY_SCHEMAS;

/** The kinds this version knows, for skipping the others. */
export const ENTRY_KINDS: readonly EntryKind[] = Object.keys(ENTRY_SCHEMAS) as EntryKind[];

/** Any known sync entry. */
export const KnownEntrySchema = v.variant('kind', [
  ENTRY_SCHEMAS.message,
  ENTRY_SCHEMAS.edited,
  ENTRY_SCHEMAS.deleted,
  ENTRY_SCHEMAS.reaction,
]);

/**
 * An entry of a kind a newer server added: clients skip it but still count its position, so the log stays
 * gap-free for them (see "Entry kinds" in docs/protocol.md).
 */
export const UnknownEntrySchema = v.object({
  pos: SeqSchema,
  kind: v.pipe(
    v.string(),
    v.maxLength(64),
    v.check((kind) => !Object.hasOwn(ENTRY_SCHEMAS, kind), 'a known entry kind with a wrong shape'),
  ),
});

/** One entry of a user's sync log, as a client reads it: a known kind, or an unknown one to skip. */
export const SyncEntrySchema = v.union([KnownEntrySchema, UnknownEntrySchema]);

/** One entry of a user's sync log, of a kind this version knows. */
export type SyncEntry = v.InferOutput<typeof KnownEntrySchema>;
/** A `message` entry: a new message. */
export type MessageEntry = v.InferOutput<(typeof ENTRY_SCHEMAS)['message']>;
/** The known entry of kind `K`. */
export type EntryOf<K extends EntryKind> = v.InferOutput<(typeof ENTRY_SCHEMAS)[K]>;
/** An entry of a kind this version does not know: skipped, but its position counts. */
export type UnknownEntry = v.InferOutput<typeof UnknownEntrySchema>;
/** An entry as read off the wire. */
export type WireEntry = SyncEntry | UnknownEntry;

/** True when the entry is of a kind this version knows. */
export function isKnownEntry(entry: WireEntry): entry is SyncEntry {
  return Object.hasOwn(ENTRY_SCHEMAS, entry.kind);
}

/** True when the entry announces a new message (not a change to an earlier one). */
export function isMessageEntry(entry: WireEntry): entry is MessageEntry {
  return entry.kind === 'message';
}
