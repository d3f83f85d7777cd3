import { createMemoryStorage } from '@natter/storage-memory';
import { describe, expect, it } from 'vitest';
import { createNatterServer } from '../src/index.js';

describe('token secret checks at construction', () => {
  it('a missing secret is a TypeError that says how to make one', () => {
    const secret = process.env.NATTER_SECRET_THAT_IS_NOT_SET as string;
    expect(() => createNatterServer({ storage: createMemoryStorage(), tokens: { secret } })).toThrow(
      /tokens\.secret is missing: make one with `openssl rand -base64 48`/,
    );
  });

  it('a short secret is a RangeError naming its length and how to make a good one', () => {
    expect(() => createNatterServer({ storage: createMemoryStorage(), tokens: { secret: 'short' } })).toThrow(
      /at least 32 bytes, got 5: make one with `openssl rand -base64 48`/,
    );
  });

  it('a secret that is neither a string nor bytes is refused', () => {
    const secret = 42 as unknown as string;
    expect(() => createNatterServer({ storage: createMemoryStorage(), tokens: { secret } })).toThrow(
      TypeError,
    );
  });
});
