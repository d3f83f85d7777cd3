import { ErrorCode, NatterError } from '@natter/protocol';

/** Options of {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failed logins per key within the window after which further attempts are refused. @default 5 */
  maxFailures?: number;
  /** Length of the sliding window, ms. @default 60000 */
  windowMs?: number;
  /** Most keys tracked at once; the least recently failed are forgotten first. @default 10000 */
  maxKeys?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Refuses login attempts for a key (a username, a client address) after too many recent failures.
 * A sliding window of failure times per key; memory stays bounded by `maxKeys`, because an attacker
 * controls how many distinct usernames and addresses show up.
 */
export class LoginThrottle {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** Failure times per key, oldest first. Map order is least recently failed first (for eviction). */
  private readonly failures = new Map<string, number[]>();

  constructor(options: LoginThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Throws when any key is throttled. Call before checking the password, so a throttled attempt costs
   * no hashing work.
   * @throws NatterError RATE_LIMITED with `retryAfterMs`.
   */
  check(keys: readonly string[]): void {
    const now = this.now();
    let retryAfterMs = 0;
    for (const key of keys) {
      const times = this.recent(key, now);
      if (times.length >= this.maxFailures) {
        // The window slides: the attempt is allowed again once the oldest counted failure ages out.
        retryAfterMs = Math.max(retryAfterMs, times[times.length - this.maxFailures]! + this.windowMs - now);
      }
    }
    if (retryAfterMs > 0) {
      throw new NatterError(ErrorCode.RATE_LIMITED, 'too many failed logins; try again later', retryAfterMs);
    }
  }

  /** Records one failed attempt against every key. */
  recordFailure(keys: readonly string[]): void {
    const now = this.now();
    for (const key of keys) {
      const times = this.recent(key, now);
      times.push(now);
      // Only the newest `maxFailures` times can matter for the decision.
      if (times.length > this.maxFailures) times.splice(0, times.length - this.maxFailures);
      this.failures.delete(key);
      this.failures.set(key, times);
    }
    while (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  /** Forgets the failures of these keys (after a successful login). */
  reset(keys: readonly string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  /** Number of keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }

  private recent(key: string, now: number): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    const fresh = times.filter((t) => t > now - this.windowMs);
    if (fresh.length === 0) this.failures.delete(key);
    return fresh;
  }
}
