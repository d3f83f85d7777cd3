import { DEFAULT_RESOURCE_LIMITS, ErrorCode, isNatterError } from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { AuthLimits } from '../src/accounts/auth-limits.js';

function refusal(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (isNatterError(err) && err.code === ErrorCode.RATE_LIMITED) return err.retryAfterMs;
    throw err;
  }
}

const LIMITS = {
  signupsPerAddress: { perSecond: 1 / 60, burst: 3 },
  loginFailuresPerAddress: { maxFailures: 10, windowMs: 60_000 },
  loginFailuresPerAccountAddress: { maxFailures: 3, windowMs: 60_000 },
  loginFailuresPerAccount: { maxFailures: 8, windowMs: 600_000 },
};

describe('AuthLimits', () => {
  it('refuses a pair after its failures but lets the owner in from another address', () => {
    const clock = { now: 0 };
    const limits = new AuthLimits(LIMITS, () => clock.now);
    for (let i = 0; i < 3; i++) limits.loginFailed('ann', '10.0.0.1');
    expect(refusal(() => limits.checkLogin('ann', '10.0.0.1'))).toBe(60_000);
    expect(refusal(() => limits.checkLogin('ann', '192.168.1.5'))).toBeUndefined();
  });

  it('refuses every address once the slower per-account window fills (a botnet gets only that many guesses)', () => {
    const clock = { now: 0 };
    const limits = new AuthLimits(LIMITS, () => clock.now);
    for (let i = 0; i < 8; i++) limits.loginFailed('ann', `10.0.0.${i}`);
    expect(refusal(() => limits.checkLogin('ann', '192.168.1.5'))).toBe(600_000);
    clock.now += 600_001;
    expect(refusal(() => limits.checkLogin('ann', '192.168.1.5'))).toBeUndefined();
  });

  it('refuses an address guessing many accounts', () => {
    const limits = new AuthLimits(LIMITS, () => 0);
    for (let i = 0; i < 10; i++) limits.loginFailed(`user${i}`, '10.0.0.9');
    expect(refusal(() => limits.checkLogin('fresh', '10.0.0.9'))).toBe(60_000);
    expect(refusal(() => limits.checkLogin('fresh', '10.0.0.10'))).toBeUndefined();
  });

  it('a success resets only its own pair', () => {
    const limits = new AuthLimits(LIMITS, () => 0);
    for (let i = 0; i < 3; i++) limits.loginFailed('ann', '10.0.0.1');
    limits.loginSucceeded('ann', '10.0.0.1');
    expect(refusal(() => limits.checkLogin('ann', '10.0.0.1'))).toBeUndefined();
    for (let i = 0; i < 5; i++) limits.loginFailed('ann', '10.0.0.1');
    limits.loginSucceeded('ann', '10.0.0.1');
    // Eight failures in all reach the account window; the success did not reset it.
    expect(refusal(() => limits.checkLogin('ann', '10.0.0.1'))).toBeGreaterThan(0);
  });

  it('limits signups per address with a token bucket', () => {
    const clock = { now: 0 };
    const limits = new AuthLimits(LIMITS, () => clock.now);
    for (let i = 0; i < 3; i++) expect(refusal(() => limits.takeSignup('10.0.0.1'))).toBeUndefined();
    expect(refusal(() => limits.takeSignup('10.0.0.1'))).toBe(60_000);
    expect(refusal(() => limits.takeSignup('10.0.0.2'))).toBeUndefined();
    clock.now += 60_000;
    expect(refusal(() => limits.takeSignup('10.0.0.1'))).toBeUndefined();
  });

  it('defaults come from the protocol’s one table', () => {
    const limits = new AuthLimits(undefined, () => 0);
    const { maxFailures } = DEFAULT_RESOURCE_LIMITS.loginFailuresPerAccountAddress;
    for (let i = 0; i < maxFailures; i++) limits.loginFailed('ann', '10.0.0.1');
    expect(refusal(() => limits.checkLogin('ann', '10.0.0.1'))).toBeGreaterThan(0);
  });
});
