import { createHash } from 'node:crypto';
import { ErrorCode, isNatterError, NatterError } from '@natter/protocol';
import type { Logger } from '../observability/logger.js';
import type { Authenticator, Principal, ProvisionedProfile } from '../ports/authenticator.js';
import type { AccountStore, UserRecord } from '../ports/storage.js';
import type { RevocationCache } from './revocation-cache.js';

/** Options of {@link AccountGate}. */
export interface AccountGateOptions {
  /**
   * How long a user found active is trusted without reading the store again, ms. A deactivation made on
   * another node reaches this node's new connections and API calls within it (this node's own at once).
   * @default 10000
   */
  cacheMs?: number;
  /** Users remembered at most (oldest forgotten first). @default 10000 */
  maxCached?: number;
  /** Checks sessions against the store's revocation list; without it revocations are not checked. */
  revocations?: RevocationCache;
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
}

interface Admitted {
  until: number;
  displayName: string;
}

const USERNAME_MAX = 32;

/** A valid natter username from any string: lower-case, `a-z 0-9 _ . -`, 3-32 characters; or undefined. */
export function usernameFrom(wanted: string): string | undefined {
  const cleaned = wanted
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, USERNAME_MAX);
  return cleaned.length >= 3 ? cleaned : undefined;
}

/** A username for a user whose wanted one is taken or unusable: stable, from the user id. */
function fallbackUsername(base: string | undefined, userId: string): string {
  const tag = createHash('sha256').update(userId).digest('hex').slice(0, 8);
  const stem = (base ?? 'user').slice(0, USERNAME_MAX - tag.length - 1);
  return `${stem}-${tag}`;
}

/** How long a client waits before trying again when the store could not check its token. */
const STORE_RETRY_AFTER_MS = 1_000;

/**
 * A failure of the store while checking a valid token (a connection refused, a full pool) is not the
 * client's fault: answered as 401, clients would drop their session and sign the user out. It becomes
 * the retryable `NATTER_UNAVAILABLE` (503, Retry-After); typed errors pass unchanged.
 */
function storeFailureAsUnavailable(err: unknown): unknown {
  if (isNatterError(err)) return err;
  return new NatterError(
    ErrorCode.UNAVAILABLE,
    'the store could not check the session; try again',
    STORE_RETRY_AFTER_MS,
    { cause: err },
  );
}

/**
 * Stands between any {@link Authenticator} and the rest of the server: a token is accepted only for a user
 * natter knows and who is not deactivated. A principal carrying `provision` (the app's own JWTs) creates
 * its user on first use and keeps the display name in step with the token's claims; one without it (natter's
 * own tokens) is refused for an unknown user instead of being let in half-way, able to send without a
 * profile. Active users are remembered briefly so a busy client does not cost a store read per request.
 */
export class AccountGate implements Authenticator {
  private readonly admitted = new Map<string, Admitted>();
  private readonly provisioning = new Map<string, Promise<UserRecord>>();
  private readonly cacheMs: number;
  private readonly maxCached: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: Authenticator,
    private readonly accounts: AccountStore,
    private readonly options: AccountGateOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 10_000;
    this.maxCached = options.maxCached ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async authenticate(token: string): Promise<Principal> {
    const principal = await this.inner.authenticate(token);
    try {
      await this.options.revocations?.check(principal);
      await this.admit(principal);
    } catch (err) {
      throw storeFailureAsUnavailable(err);
    }
    return principal;
  }

  /** Forgets what was cached about a user, so their next request reads the store (after a deactivation). */
  forget(userId: string): void {
    this.admitted.delete(userId);
  }

  private async admit(principal: Principal): Promise<void> {
    const { userId, provision } = principal;
    const cached = this.admitted.get(userId);
    const wantedName = provision?.displayName;
    if (
      cached &&
      cached.until > this.now() &&
      (wantedName === undefined || wantedName === cached.displayName)
    ) {
      return;
    }
    let user = await this.accounts.getUser(userId);
    if (!user) {
      if (!provision) throw new NatterError(ErrorCode.UNAUTHORIZED, 'unknown user');
      user = await this.provisionOnce(userId, provision);
    }
    if (user.deactivatedAt != null) {
      this.admitted.delete(userId);
      throw new NatterError(ErrorCode.UNAUTHORIZED, 'account deactivated');
    }
    if (wantedName !== undefined && wantedName.trim() !== '' && wantedName !== user.displayName) {
      user =
        (await this.accounts.updateUser(userId, { displayName: wantedName.trim().slice(0, 100) })) ?? user;
    }
    this.remember(userId, user.displayName);
  }

  /** Concurrent first requests of one user (several devices at once) create it once. */
  private provisionOnce(userId: string, profile: ProvisionedProfile): Promise<UserRecord> {
    let pending = this.provisioning.get(userId);
    if (!pending) {
      pending = this.create(userId, profile).finally(() => this.provisioning.delete(userId));
      this.provisioning.set(userId, pending);
    }
    return pending;
  }

  private async create(userId: string, profile: ProvisionedProfile): Promise<UserRecord> {
    const base = usernameFrom(profile.username ?? '') ?? usernameFrom(userId);
    const candidates = [...(base ? [base] : []), fallbackUsername(base, userId)];
    for (const username of candidates) {
      const user: UserRecord = {
        id: userId,
        username,
        displayName: (profile.displayName?.trim() || profile.username || username).slice(0, 100),
        // Users of an external identity provider have no password here: login with one never succeeds.
        passwordHash: null,
        createdAt: this.now(),
      };
      try {
        await this.accounts.createUser(user);
        this.options.logger?.info({ userId, username }, 'user provisioned from token claims');
        return user;
      } catch (err) {
        // Another node may have created this very user meanwhile; else the username was taken.
        const existing = await this.accounts.getUser(userId);
        if (existing) return existing;
        if (!isNatterError(err) || err.code !== ErrorCode.CONFLICT) throw err;
      }
    }
    throw new NatterError(ErrorCode.CONFLICT, 'no free username for this user');
  }

  private remember(userId: string, displayName: string): void {
    this.admitted.delete(userId);
    this.admitted.set(userId, { until: this.now() + this.cacheMs, displayName });
    if (this.admitted.size > this.maxCached) {
      const oldest = this.admitted.keys().next().value;
      if (oldest !== undefined) this.admitted.delete(oldest);
    }
  }
}
