import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, msgpackCodec, newId, parseClientFrame } from '../src/index.js';

describe('parseClientFrame', () => {
  it('accepts a well-formed send frame', () => {
    const result = parseClientFrame({ t: 'send', rid: 1, channelId: 'g_1', clientMsgId: 'x', text: 'hi' });
    expect(result).toEqual({
      ok: true,
      frame: { t: 'send', rid: 1, channelId: 'g_1', clientMsgId: 'x', text: 'hi' },
    });
  });

  it('answers an unknown type with UNKNOWN_FRAME and keeps the rid', () => {
    expect(parseClientFrame({ t: 'nope', rid: 9 })).toMatchObject({
      ok: false,
      code: ErrorCode.UNKNOWN_FRAME,
      rid: 9,
    });
  });

  it('answers wrong field types with BAD_REQUEST naming the field', () => {
    const result = parseClientFrame({ t: 'send', rid: 2, channelId: 'g 1', clientMsgId: 'x', text: 'hi' });
    expect(result).toMatchObject({ ok: false, code: ErrorCode.BAD_REQUEST, rid: 2 });
    expect(result.ok ? '' : result.message).toContain('channelId');
  });

  it('refuses history with two anchors', () => {
    expect(parseClientFrame({ t: 'history', rid: 3, channelId: 'g', before: 5, after: 1 })).toMatchObject({
      ok: false,
      code: ErrorCode.BAD_REQUEST,
    });
  });

  it('drops unknown keys, so __proto__ never reaches the core', () => {
    const raw = JSON.parse('{"t":"ping","rid":1,"__proto__":{"polluted":true},"extra":1}');
    const result = parseClientFrame(raw);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(Object.keys(result.frame)).toEqual(['t', 'rid']);
      expect(Object.getPrototypeOf(result.frame)).toBe(Object.prototype);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never throws on arbitrary decoded input (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const result = parseClientFrame(value);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws on mutated MessagePack frames (property)', () => {
    const base = msgpackCodec.encode({
      t: 'send',
      rid: 1,
      channelId: 'g_1',
      clientMsgId: 'c',
      text: 'hello',
    }) as Uint8Array;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (edits) => {
          const bytes = Uint8Array.from(base);
          for (const [i, b] of edits) bytes[i] = b;
          let decoded: unknown;
          try {
            decoded = msgpackCodec.decode(bytes, true);
          } catch {
            return;
          }
          expect(typeof parseClientFrame(decoded).ok).toBe('boolean');
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('newId', () => {
  it('is monotonic within a millisecond and across a clock step back', () => {
    const ids = Array.from({ length: 1000 }, () => newId(1_800_000_000_000));
    ids.push(newId(1_799_999_999_000));
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is 26 chars, unique, and sorts by time', () => {
    const a = newId(1_700_000_000_000);
    const b = newId(1_700_000_000_001);
    expect(a).toHaveLength(26);
    expect(a < b).toBe(true);
    const many = new Set(Array.from({ length: 10_000 }, () => newId()));
    expect(many.size).toBe(10_000);
  });
});
