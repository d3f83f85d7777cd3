import { describe, expect, it } from 'vitest';
import { createBackoff, createRetryDelay, delayWithRetryAfter, fullJitterBackoff } from '../src/backoff.js';
import { parseRetryAfter } from '../src/connection.js';

describe('fullJitterBackoff', () => {
  it('returns 0 when the random source returns 0', () => {
    expect(fullJitterBackoff(5, { random: () => 0 })).toBe(0);
  });

  it('stays below the exponential cap for the highest random value', () => {
    const almostOne = () => 0.999_999;
    expect(fullJitterBackoff(0, { baseMs: 500, random: almostOne })).toBe(499);
    expect(fullJitterBackoff(1, { baseMs: 500, random: almostOne })).toBe(999);
    expect(fullJitterBackoff(3, { baseMs: 500, random: almostOne })).toBe(3999);
  });

  it('never exceeds maxMs however many attempts failed', () => {
    for (const attempt of [10, 50, 1_000, Number.MAX_SAFE_INTEGER]) {
      const delay = fullJitterBackoff(attempt, { baseMs: 500, maxMs: 30_000, random: () => 0.999_999 });
      expect(delay).toBeLessThan(30_000);
      expect(delay).toBeGreaterThan(29_000);
    }
  });

  it('spreads delays over the whole window (full jitter)', () => {
    const samples = Array.from({ length: 2_000 }, () => fullJitterBackoff(4, { baseMs: 100 }));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(1_600);
    // Both halves of [0, 1600) are used: no clustering at the cap like fixed or "equal jitter" steps.
    expect(samples.filter((s) => s < 800).length).toBeGreaterThan(500);
    expect(samples.filter((s) => s >= 800).length).toBeGreaterThan(500);
  });

  it('maps the random value linearly into the window', () => {
    expect(fullJitterBackoff(2, { baseMs: 100, random: () => 0.5 })).toBe(200);
    expect(fullJitterBackoff(2, { baseMs: 100, factor: 3, random: () => 0.5 })).toBe(450);
  });

  it('clamps out-of-range random values and negative attempts', () => {
    expect(fullJitterBackoff(-3, { baseMs: 100, random: () => 7 })).toBeLessThan(100);
    expect(fullJitterBackoff(1, { baseMs: 100, random: () => -1 })).toBe(0);
  });

  it('is pure: createBackoff with a fixed random gives the same delays every time', () => {
    const backoff = createBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0.25 });
    expect([0, 1, 2, 3, 4, 5].map(backoff)).toEqual([25, 50, 100, 200, 250, 250]);
    expect([0, 1, 2, 3, 4, 5].map(backoff)).toEqual([25, 50, 100, 200, 250, 250]);
  });
});

describe('delayWithRetryAfter', () => {
  it('never retries earlier than the server asked', () => {
    expect(delayWithRetryAfter(0, 1_500)).toBe(1_500);
    expect(delayWithRetryAfter(300, 1_500)).toBe(1_800);
  });

  it('uses the backoff alone without a server delay', () => {
    expect(delayWithRetryAfter(300, undefined)).toBe(300);
    expect(delayWithRetryAfter(300, Number.NaN)).toBe(300);
  });
});

describe('createRetryDelay', () => {
  it('draws its jitter from the injected random source: 250 ms doubling to 10 s', () => {
    const retryDelay = createRetryDelay(() => 0.5);
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => retryDelay(a, undefined))).toEqual([
      125, 250, 500, 1_000, 2_000, 4_000, 5_000, 5_000,
    ]);
    expect(createRetryDelay(() => 0)(6, undefined)).toBe(0);
  });

  it('adds the server delay on top of the jitter', () => {
    expect(createRetryDelay(() => 0.5)(0, 1_000)).toBe(1_125);
  });

  it('calls the injected source once per delay', () => {
    let calls = 0;
    const retryDelay = createRetryDelay(() => {
      calls++;
      return 0.25;
    });
    retryDelay(0, undefined);
    retryDelay(1, 500);
    expect(calls).toBe(2);
  });
});

describe('parseRetryAfter', () => {
  it('reads a delay from a close reason', () => {
    expect(parseRetryAfter('draining; retryAfterMs=2500')).toBe(2_500);
    expect(parseRetryAfter('{"retryAfterMs":900}')).toBe(900);
    expect(parseRetryAfter('server closing')).toBeUndefined();
  });
});
