import * as v from 'valibot';
import { ID_LIMITS } from '../limits.js';

/**
 * A reaction: one emoji (a ZWJ sequence, a flag and skin-tone modifiers included). The server does not
 * check it against the Unicode emoji list (that list grows every year and old servers would refuse new
 * emojis); it bounds the length, refuses whitespace and control characters, and keeps it opaque.
 */
export const EmojiSchema = v.pipe(
  v.string(),
  v.minLength(1, 'emoji must not be empty'),
  v.maxLength(ID_LIMITS.maxEmojiLength, `emoji must be at most ${ID_LIMITS.maxEmojiLength} characters`),
  v.regex(/^[^\s\p{Cc}]+$/u, 'emoji must not contain whitespace or control characters'),
);
