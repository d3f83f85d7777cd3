import * as v from 'valibot';
import { ID_LIMITS } from '../limits.js';

/** Ids: 1-64 chars of `A-Z a-z 0-9 _ . : -`. Applies to user, channel, device and client message ids. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Schema for any natter id. */
export const IdSchema = v.pipe(v.string(), v.maxLength(ID_LIMITS.maxIdLength), v.regex(ID_PATTERN));

/** A non-negative safe integer (counts, markers, `after` cursors). */
export const UintSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

/** A channel sequence number or sync position: 1, 2, 3, ... */
export const SeqSchema = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));

/** Milliseconds since the Unix epoch. */
export const TimestampSchema = UintSchema;

/** Request ids correlate an answer with its request; chosen by the client. */
export const RequestIdSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 32 - 1));

/** A UTF-16 code unit of a surrogate pair standing alone: with the `u` flag a proper pair never matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether `text` is well-formed Unicode: no lone surrogate, so every encoding of it is the same text. */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * Refuses lone surrogates (`NATTER_BAD_REQUEST`). UTF-8 cannot carry them, so JSON, MessagePack and the
 * stores would each turn one into something else (U+FFFD, CESU bytes, an error) and one message would have
 * several texts. Every text and name a client sends passes through it.
 */
export const WellFormedText = v.check(
  isWellFormedText,
  'text must be well-formed Unicode (no lone surrogates)',
);

/** Display and group names: trimmed, 1-100 characters. */
export const NameSchema = v.pipe(
  v.string(),
  WellFormedText,
  v.trim(),
  v.minLength(1, 'name must not be empty'),
  v.maxLength(ID_LIMITS.maxNameLength, `name must be at most ${ID_LIMITS.maxNameLength} characters`),
);

/** A status a user chooses. `invisible` users appear offline to others but count as online for push. */
export const ChosenStatusSchema = v.picklist(['online', 'away', 'invisible']);

/** A status a user chooses. */
export type ChosenStatus = v.InferOutput<typeof ChosenStatusSchema>;
