import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { EmojiSchema, ENTRY_SCHEMAS, ID_LIMITS, parseClientFrame, SeqSchema } from '../src/index.js';
import { ENTRY_SAMPLES } from './samples.js';

/**
 * A reader as a protocol-1 client built before the lifecycle kinds has it: it knows `message` only and
 * reads every other kind as `{ pos, kind }` to skip (the rule of docs/protocol.md, "Entry kinds a
 * client does not know").
 */
const oldReader = v.union([
  ENTRY_SCHEMAS.message,
  v.object({
    pos: SeqSchema,
    kind: v.pipe(
      v.string(),
      v.check((kind) => kind !== 'message'),
    ),
  }),
]);

describe('message lifecycle in the protocol', () => {
  it('an old client reads edited, deleted and reaction entries as entries to skip, keeping their positions', () => {
    for (const kind of ['edited', 'deleted', 'reaction'] as const) {
      const sample = ENTRY_SAMPLES[kind] as { pos: number };
      expect(v.parse(oldReader, sample)).toEqual({ pos: sample.pos, kind });
    }
  });

  it('an old client drops the new message fields and still reads the message', () => {
    const edited = ENTRY_SAMPLES.edited as { message: Record<string, unknown> };
    const parsed = v.parse(ENTRY_SCHEMAS.message, { pos: 1, kind: 'message', message: edited.message });
    expect(parsed.message.text).toBe(edited.message.text);
  });

  it('accepts emoji sequences and refuses empty, over-long or whitespace reactions', () => {
    for (const ok of ['👍', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '+1']) expect(v.is(EmojiSchema, ok)).toBe(true);
    for (const bad of ['', ' ', 'a b', '\u0000', 'x'.repeat(ID_LIMITS.maxEmojiLength + 1)]) {
      expect(v.is(EmojiSchema, bad)).toBe(false);
    }
  });

  it('refuses a react frame without an op and an edit with empty text', () => {
    const react = { t: 'react', rid: 1, clientId: 'm', channelId: 'g_1', seq: 1, emoji: '👍' };
    expect(parseClientFrame(react)).toMatchObject({ ok: false });
    expect(parseClientFrame({ ...react, op: 'add' })).toMatchObject({ ok: true });
    const edit = { t: 'edit', rid: 1, clientId: 'm', channelId: 'g_1', seq: 1, text: '' };
    expect(parseClientFrame(edit)).toMatchObject({ ok: false });
  });
});
