import type { RateLimitedFrameKind, ResourceLimits } from '@natter/protocol';
import { TokenBucket } from '../chat/rate-limiter.js';

/** What one user holds on this node: open sockets, requests in flight and the user-wide frame buckets. */
interface UserQuota {
  connections: number;
  inFlight: number;
  /** Made at the user's first rate-limited frame: an idle socket's user needs none. */
  buckets?: Map<RateLimitedFrameKind, TokenBucket>;
}

/** Users whose connect buckets are kept at most (least recently connected forgotten first). */
const MAX_CONNECT_BUCKETS = 10_000;

/**
 * Per-user bounds shared by every socket of a user on one node: how many sockets the user holds, and the
 * user-wide token bucket of each frame kind, so ten sockets do not get ten times the rate. An entry lives
 * while the user has a socket here, so memory follows the connected users.
 */
export class UserQuotas {
  private readonly users = new Map<string, UserQuota>();
  /** Kept apart from `users`, whose entries go with the last socket: a reconnect loop must not reset it. */
  private readonly connects = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: ResourceLimits,
    private readonly now: () => number,
  ) {}

  /**
   * Counts a new socket of `userId`: 0 when admitted, else the wait in ms before trying again (the user
   * is at `maxConnectionsPerUser`, or connects faster than `connectsPerUser`); nothing is counted then.
   */
  tryOpen(userId: string, retryAfterMs: number): number {
    let quota = this.users.get(userId);
    if (quota && quota.connections >= this.limits.maxConnectionsPerUser) return retryAfterMs;
    let bucket = this.connects.get(userId);
    if (bucket) this.connects.delete(userId);
    else
      bucket = new TokenBucket(
        this.limits.connectsPerUser.perSecond,
        this.limits.connectsPerUser.burst,
        this.now,
      );
    this.connects.set(userId, bucket);
    if (this.connects.size > MAX_CONNECT_BUCKETS) {
      const oldest = this.connects.keys().next().value;
      if (oldest !== undefined) this.connects.delete(oldest);
    }
    const wait = bucket.take();
    if (wait > 0) return wait;
    if (!quota) {
      quota = { connections: 0, inFlight: 0 };
      this.users.set(userId, quota);
    }
    quota.connections += 1;
    return 0;
  }

  /**
   * Whether a new socket of `userId` would be admitted, without counting it: 0 when yes, else the wait in
   * ms. Lets a transport refuse before it upgrades (no socket, no session) what `tryOpen` would refuse.
   */
  peekOpen(userId: string, retryAfterMs: number): number {
    const quota = this.users.get(userId);
    if (quota && quota.connections >= this.limits.maxConnectionsPerUser) return retryAfterMs;
    return this.connects.get(userId)?.peek() ?? 0;
  }

  /** Counts a request of `userId` in flight; false when the user is at `maxInFlightPerUser`. */
  tryStart(userId: string): boolean {
    const quota = this.users.get(userId);
    if (!quota) return true;
    if (quota.inFlight >= this.limits.maxInFlightPerUser) return false;
    quota.inFlight += 1;
    return true;
  }

  /** Uncounts a request counted by {@link tryStart}. */
  finish(userId: string): void {
    const quota = this.users.get(userId);
    if (quota && quota.inFlight > 0) quota.inFlight -= 1;
  }

  /** Uncounts a socket counted by {@link tryOpen}. */
  release(userId: string): void {
    const quota = this.users.get(userId);
    if (!quota) return;
    quota.connections -= 1;
    if (quota.connections <= 0) this.users.delete(userId);
  }

  /** Takes one token of `kind` from the user's bucket: 0 when allowed, else the wait in ms. */
  take(userId: string, kind: RateLimitedFrameKind): number {
    const quota = this.users.get(userId);
    // Sessions are counted by tryOpen before their first frame; a released user has nothing to limit.
    if (!quota) return 0;
    quota.buckets ??= new Map();
    let bucket = quota.buckets.get(kind);
    if (!bucket) {
      const { perSecond, burst } = this.limits.frameRates[kind].user;
      bucket = new TokenBucket(perSecond, burst, this.now);
      quota.buckets.set(kind, bucket);
    }
    return bucket.take();
  }

  /** Open sockets of `userId` counted here. */
  connectionsOf(userId: string): number {
    return this.users.get(userId)?.connections ?? 0;
  }
}

/** Most addresses whose handshake buckets are kept (least recently seen forgotten first). */
const MAX_ADDRESS_BUCKETS = 10_000;

/** Counts sockets (in handshake or open) per client address, and rate-limits its upgrade attempts. */
export class AddressQuotas {
  private readonly counts = new Map<string, number>();
  private readonly handshakes = new Map<string, TokenBucket>();

  constructor(
    private readonly max: number,
    private readonly handshakeRate: { perSecond: number; burst: number } = { perSecond: 50, burst: 200 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes an upgrade attempt of `address`: 0 when allowed, else the wait in ms. */
  takeHandshake(address: string): number {
    let bucket = this.handshakes.get(address);
    if (bucket) this.handshakes.delete(address);
    else bucket = new TokenBucket(this.handshakeRate.perSecond, this.handshakeRate.burst, this.now);
    this.handshakes.set(address, bucket);
    if (this.handshakes.size > MAX_ADDRESS_BUCKETS) {
      const oldest = this.handshakes.keys().next().value;
      if (oldest !== undefined) this.handshakes.delete(oldest);
    }
    return bucket.take();
  }

  /** Counts one socket from `address`; false when the address is at the cap. */
  tryOpen(address: string): boolean {
    const count = this.counts.get(address) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(address, count + 1);
    return true;
  }

  /** Uncounts a socket counted by {@link tryOpen}. */
  release(address: string): void {
    const count = (this.counts.get(address) ?? 0) - 1;
    if (count <= 0) this.counts.delete(address);
    else this.counts.set(address, count);
  }
}
