import { ErrorCode, isNatterError } from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/accounts/login-throttle.js';

function setup(options: { maxKeys?: number } = {}) {
  const clock = { now: 1_000_000 };
  const throttle = new LoginThrottle({ now: () => clock.now, ...options });
  const attempt = (keys: string[]) => {
    try {
      throttle.check(keys);
      return undefined;
    } catch (err) {
      if (isNatterError(err)) return err;
      throw err;
    }
  };
  return { clock, throttle, attempt };
}

describe('LoginThrottle', () => {
  it('allows five failures, then refuses with RATE_LIMITED and a retry delay', () => {
    const { throttle, attempt } = setup();
    for (let i = 0; i < 5; i++) {
      expect(attempt(['user:a'])).toBeUndefined();
      throttle.recordFailure(['user:a']);
    }
    const refused = attempt(['user:a']);
    expect(refused?.code).toBe(ErrorCode.RATE_LIMITED);
    expect(refused?.retryAfterMs).toBe(60_000);
  });

  it('lets the attempt through again once the oldest failure leaves the window', () => {
    const { clock, throttle, attempt } = setup();
    for (let i = 0; i < 5; i++) {
      throttle.recordFailure(['user:a']);
      clock.now += 10_000;
    }
    // Failures at t0..t0+40s: the first ages out at t0+60s, which is 10 s from now.
    expect(attempt(['user:a'])?.retryAfterMs).toBe(10_000);
    clock.now += 10_000;
    expect(attempt(['user:a'])).toBeUndefined();
  });

  it('refuses when any one of the keys is throttled', () => {
    const { throttle, attempt } = setup();
    for (let i = 0; i < 5; i++) throttle.recordFailure(['ip:1.2.3.4']);
    expect(attempt(['user:b', 'ip:1.2.3.4'])?.code).toBe(ErrorCode.RATE_LIMITED);
    expect(attempt(['user:b', 'ip:5.6.7.8'])).toBeUndefined();
  });

  it('forgets a key after reset', () => {
    const { throttle, attempt } = setup();
    for (let i = 0; i < 5; i++) throttle.recordFailure(['user:a']);
    throttle.reset(['user:a']);
    expect(attempt(['user:a'])).toBeUndefined();
  });

  it('keeps at most maxKeys keys, dropping the least recently failed', () => {
    const { throttle } = setup({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) throttle.recordFailure([`user:${i}`]);
    expect(throttle.size).toBe(100);
  });
});
