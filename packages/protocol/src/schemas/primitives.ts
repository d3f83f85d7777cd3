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

/** Display and group names: trimmed, 1-100 characters. */
export const NameSchema = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, 'name must not be empty'),
  v.maxLength(ID_LIMITS.maxNameLength, `name must be at most ${ID_LIMITS.maxNameLength} characters`),
);

/** A status a user chooses. `invisible` users appear offline to others but count as online for push. */
export const ChosenStatusSchema = v.picklist(['online', 'away', 'invisible']);

/** A status a user chooses. */
export type ChosenStatus = v.InferOutput<typeof ChosenStatusSchema>;
