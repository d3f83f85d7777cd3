import {
  type AccountStore,
  applyUserPatch,
  ErrorCode,
  NatterError,
  type RefreshTokenRecord,
  type SessionRevocation,
  type UserPatch,
  type UserRecord,
} from '@natter/server-core';
import { key, prefix, rangeOf } from './keys.js';
import { SnapshotReader } from './reader.js';
import type { LevelDb, StagedView } from './staging.js';

/** How the account store reaches the rest of the adapter. */
export interface LevelAccountDeps {
  /** The open database; throws UNAVAILABLE when the store is closed. */
  db: () => LevelDb;
  /** Runs `fn` in the writer loop, like any write (so a read-modify-write is atomic). */
  write: <T>(fn: (view: StagedView) => Promise<T>) => Promise<T>;
}

/**
 * The LevelDB adapter's {@link AccountStore}. Writes go through the group-commit queue: checks such
 * as "username taken" and the one-time take of a refresh token then run under the single writer.
 */
export class LevelAccountStore implements AccountStore {
  constructor(private readonly deps: LevelAccountDeps) {}

  async createUser(user: UserRecord): Promise<void> {
    await this.deps.write(async (view) => {
      if ((await view.get(key.username(user.username))) !== undefined) {
        throw new NatterError(ErrorCode.CONFLICT, 'username is taken');
      }
      if ((await view.get(key.user(user.id))) !== undefined) {
        throw new NatterError(ErrorCode.CONFLICT, 'user id is taken');
      }
      view.put(key.user(user.id), { ...user });
      view.put(key.username(user.username), user.id);
    });
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    return (await this.deps.db().get(key.user(userId))) as UserRecord | undefined;
  }

  async getUsers(userIds: readonly string[]): Promise<UserRecord[]> {
    const ids = [...new Set(userIds)];
    if (ids.length === 0) return [];
    const found = (await this.deps.db().getMany(ids.map((id) => key.user(id)))) as Array<
      UserRecord | undefined
    >;
    return found.filter((user): user is UserRecord => user !== undefined);
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return SnapshotReader.read(this.deps.db(), async (r) => {
      const userId = await r.get<string>(key.username(username));
      return userId === undefined ? undefined : r.get<UserRecord>(key.user(userId));
    });
  }

  /** Usernames with the prefix form one contiguous run of keys from the prefix on (bytewise order). */
  async searchUsers(searched: string, limit: number): Promise<UserRecord[]> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    return SnapshotReader.read(this.deps.db(), async (r) => {
      const entries = await r.entries<string>({
        gte: key.username(searched),
        lt: rangeOf(prefix.username).lt,
        limit: count,
      });
      const matching = entries.filter(([k]) => k.slice(prefix.username.length).startsWith(searched));
      const users = await r.getMany<UserRecord>(matching.map(([, userId]) => key.user(userId)));
      return users.filter((user): user is UserRecord => user !== undefined);
    });
  }

  async updateUser(userId: string, patch: UserPatch): Promise<UserRecord | undefined> {
    return this.deps.write(async (view) => {
      const user = await view.get<UserRecord>(key.user(userId));
      if (!user) return undefined;
      const updated = applyUserPatch(user, patch);
      view.put(key.user(userId), updated);
      return { ...updated };
    });
  }

  async saveRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.deps.write(async (view) => {
      const previous = await view.get<RefreshTokenRecord>(key.token(token.tokenHash));
      if (previous) view.del(key.tokenOfUser(previous.userId, previous.deviceId, previous.tokenHash));
      view.put(key.token(token.tokenHash), { ...token });
      view.put(key.tokenOfUser(token.userId, token.deviceId, token.tokenHash), 1);
    });
  }

  async takeRefreshToken(tokenHash: string, now: number): Promise<RefreshTokenRecord | undefined> {
    const token = await this.deps.write(async (view) => {
      const found = await view.get<RefreshTokenRecord>(key.token(tokenHash));
      if (found) {
        view.del(key.token(tokenHash));
        view.del(key.tokenOfUser(found.userId, found.deviceId, tokenHash));
      }
      return found;
    });
    return token && token.expiresAt > now ? token : undefined;
  }

  async revokeRefreshTokens(userId: string, deviceId?: string): Promise<void> {
    await this.deps.write(async (view) => {
      const p = prefix.tokensOfUser(userId);
      const indexed = await view.rangeKeys(prefix.tokensOfUser(userId, deviceId));
      for (const indexKey of indexed) {
        // The device part is escaped (no `!`), so the token hash is everything after its separator.
        const rest = indexKey.slice(p.length);
        view.del(indexKey);
        view.del(key.token(rest.slice(rest.indexOf('!') + 1)));
      }
    });
  }

  async addRevocation(revocation: SessionRevocation, now: number): Promise<void> {
    await this.deps.write(async (view) => {
      const previous = await view.get<SessionRevocation>(key.revocation(revocation.subject));
      const row: SessionRevocation = {
        subject: revocation.subject,
        issuedBefore: Math.max(revocation.issuedBefore, previous?.issuedBefore ?? 0),
        expiresAt: Math.max(revocation.expiresAt, previous?.expiresAt ?? 0),
      };
      if (previous) view.del(key.revocationExpiry(previous.expiresAt, previous.subject));
      view.put(key.revocation(row.subject), row);
      view.put(key.revocationExpiry(row.expiresAt, row.subject), 1);
      // Expired rows go with the next revocation, as in the SQL adapters: the expiry index makes it one
      // range scan over just the expired ones.
      const expired = await view.scan<number>(prefix.revocationExpiry, key.revocationExpiry(now + 1, ''));
      for (const [indexKey] of expired) {
        view.del(indexKey);
        const subject = indexKey.slice(indexKey.indexOf('!', prefix.revocationExpiry.length) + 1);
        if (subject !== row.subject || row.expiresAt <= now) view.del(key.revocation(subject));
      }
    });
  }

  async revokedBefore(subjects: readonly string[], now: number): Promise<number> {
    const found = (await this.deps.db().getMany(subjects.map((s) => key.revocation(s)))) as Array<
      SessionRevocation | undefined
    >;
    let before = 0;
    for (const row of found) if (row && row.expiresAt > now) before = Math.max(before, row.issuedBefore);
    return before;
  }
}
