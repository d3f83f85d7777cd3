/**
 * A token bucket: `ratePerSecond` sustained, `burst` at once. Returns the wait in ms before the next
 * allowed action, 0 when the action is allowed (and consumed).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** The wait in ms before an action would be allowed, without taking a token (0: allowed now). */
  peek(): number {
    const t = this.now();
    const tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.ratePerSecond) * 1000);
  }

  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }
}
