import { ErrorCode, NatterError } from '@natter/protocol';
import type { Principal } from '../ports/authenticator.js';
import type { AccountStore } from '../ports/storage.js';

/** Options of {@link RevocationCache}. */
export interface RevocationCacheOptions {
  /** How long an answer of the store is trusted, ms: the bound on how late a revocation is seen. @default 2000 */
  cacheMs?: number;
  /** Answers remembered at most (oldest forgotten first). @default 10000 */
  maxCached?: number;
  /** @default Date.now */
  now?: () => number;
}

interface Cached {
  until: number;
  /** The store's `revokedBefore` for the subjects. */
  before: number;
}

/**
 * Checks principals against the revocation list in the store, so a logged-out session is refused on every
 * node: a handshake or API call asks the store at most once per `cacheMs` per session. Revocations made on
 * this node clear the cache at once; those made elsewhere are seen within `cacheMs`.
 */
export class RevocationCache {
  private readonly cached = new Map<string, Cached>();
  private readonly cacheMs: number;
  private readonly maxCached: number;
  private readonly now: () => number;

  constructor(
    private readonly accounts: AccountStore,
    options: RevocationCacheOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 2_000;
    this.maxCached = options.maxCached ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Throws when the principal's session, or every session of its user issued before it, was revoked.
   * Principals that carry neither a session nor an issue time (an app's own tokens) have nothing to check.
   * @throws NatterError UNAUTHORIZED `session revoked`.
   */
  async check(principal: Principal): Promise<void> {
    const { userId, sessionId, issuedAt } = principal;
    if (sessionId === undefined && issuedAt === undefined) return;
    const subjects = [`u:${userId}`, ...(sessionId === undefined ? [] : [`s:${sessionId}`])];
    const key = subjects.join(' ');
    const now = this.now();
    let entry = this.cached.get(key);
    if (!entry || entry.until <= now) {
      entry = { until: now + this.cacheMs, before: await this.accounts.revokedBefore(subjects, now) };
      this.cached.delete(key);
      this.cached.set(key, entry);
      if (this.cached.size > this.maxCached) {
        const oldest = this.cached.keys().next().value;
        if (oldest !== undefined) this.cached.delete(oldest);
      }
    }
    if (entry.before > 0 && (issuedAt ?? 0) < entry.before) {
      throw new NatterError(ErrorCode.UNAUTHORIZED, 'session revoked');
    }
  }

  /** Forgets every cached answer (after a revocation made on this node). */
  clear(): void {
    this.cached.clear();
  }
}
