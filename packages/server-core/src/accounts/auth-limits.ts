import {
  DEFAULT_RESOURCE_LIMITS,
  ErrorCode,
  NatterError,
  type RateLimit,
  type ResourceLimits,
} from '@natter/protocol';
import { TokenBucket } from '../chat/rate-limiter.js';
import { LoginThrottle } from './login-throttle.js';

/** The limits of {@link AuthLimits}: the signup and login rows of {@link ResourceLimits}. */
export type AuthLimitOptions = Pick<
  ResourceLimits,
  | 'signupsPerAddress'
  | 'loginFailuresPerAddress'
  | 'loginFailuresPerAccountAddress'
  | 'loginFailuresPerAccount'
>;

/** Most addresses whose signup buckets are kept; the least recently used are forgotten first. */
const MAX_SIGNUP_KEYS = 10_000;

/**
 * Signup and login limits. Logins fail in three windows: per address (one address guessing many accounts),
 * per (account, address) pair (one address guessing one account), and a slower one per account from every
 * address (a botnet guessing one account). The owner at another address is locked out only by the last,
 * which takes far more failures than the pair's, so one attacker cannot lock the owner out.
 */
export class AuthLimits {
  private readonly perAddress: LoginThrottle;
  private readonly perPair: LoginThrottle;
  private readonly perAccount: LoginThrottle;
  private readonly signups = new Map<string, TokenBucket>();
  private readonly signupRate: RateLimit;

  constructor(
    limits: AuthLimitOptions = DEFAULT_RESOURCE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    const throttle = (w: { maxFailures: number; windowMs: number }) =>
      new LoginThrottle({ maxFailures: w.maxFailures, windowMs: w.windowMs, now });
    this.perAddress = throttle(limits.loginFailuresPerAddress);
    this.perPair = throttle(limits.loginFailuresPerAccountAddress);
    this.perAccount = throttle(limits.loginFailuresPerAccount);
    this.signupRate = limits.signupsPerAddress;
  }

  /**
   * Throws when a login for `username` from `address` is throttled; call before hashing.
   * @throws NatterError RATE_LIMITED with `retryAfterMs`.
   */
  checkLogin(username: string, address: string | undefined): void {
    this.perAccount.check([username]);
    this.perPair.check([pairKey(username, address)]);
    if (address) this.perAddress.check([address]);
  }

  /** Counts a failed login in every window. */
  loginFailed(username: string, address: string | undefined): void {
    this.perAccount.recordFailure([username]);
    this.perPair.recordFailure([pairKey(username, address)]);
    if (address) this.perAddress.recordFailure([address]);
  }

  /**
   * Resets the pair only: resetting the address would let one valid account launder guesses against
   * others, and resetting the account would let an attacker's own success hide a botnet's count.
   */
  loginSucceeded(username: string, address: string | undefined): void {
    this.perPair.reset([pairKey(username, address)]);
  }

  /**
   * Takes a signup token for `address` (no address: one shared bucket, which is what an unknown client gets).
   * @throws NatterError RATE_LIMITED with `retryAfterMs`.
   */
  takeSignup(address: string | undefined): void {
    const key = address ?? '-';
    let bucket = this.signups.get(key);
    if (bucket) this.signups.delete(key);
    else bucket = new TokenBucket(this.signupRate.perSecond, this.signupRate.burst, this.now);
    this.signups.set(key, bucket);
    while (this.signups.size > MAX_SIGNUP_KEYS) {
      const oldest = this.signups.keys().next().value;
      if (oldest === undefined) break;
      this.signups.delete(oldest);
    }
    const wait = bucket.take();
    if (wait > 0) throw new NatterError(ErrorCode.RATE_LIMITED, 'too many signups; try again later', wait);
  }
}

function pairKey(username: string, address: string | undefined): string {
  return `${username}\u0000${address ?? '-'}`;
}
