import type {
  AccountStore,
  RefreshTokenRecord,
  SessionRevocation,
  UserPatch,
  UserRecord,
} from '@natter/server-core';
import { conflictOnDuplicate } from './constraint.js';
import { toToken, toUser } from './rows.js';
import type { ReadStatements, WriteStatements } from './statements.js';

/** How the account store reaches the connections. */
export interface SqliteAccountDeps {
  /** Runs `fn` on the read-only connection's statements once the state it sees is durable. */
  read: <T>(fn: (reads: ReadStatements) => T) => Promise<T>;
  /** Runs `fn` with the write statements inside the writer loop (queued like any write). */
  write: <T>(fn: (writes: WriteStatements) => T) => Promise<T>;
}

/**
 * The SQLite adapter's {@link AccountStore}. Account writes go through the same writer loop as chat
 * writes: the write connection may be inside a batch, and a statement run beside the loop would
 * join (and could be rolled back with) someone else's savepoint.
 */
export class SqliteAccountStore implements AccountStore {
  constructor(private readonly deps: SqliteAccountDeps) {}

  async createUser(user: UserRecord): Promise<void> {
    await this.deps.write((w) =>
      conflictOnDuplicate('username is taken', () =>
        w.insertUser.run(
          user.id,
          user.username,
          user.displayName,
          user.passwordHash,
          user.createdAt,
          user.deactivatedAt ?? null,
        ),
      ),
    );
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    return this.deps.read((r) => {
      const row = r.userById.get(userId);
      return row && toUser(row);
    });
  }

  async getUsers(userIds: readonly string[]): Promise<UserRecord[]> {
    if (userIds.length === 0) return [];
    return this.deps.read((r) => r.usersByIds.all(JSON.stringify(userIds)).map(toUser));
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return this.deps.read((r) => {
      const row = r.userByUsername.get(username);
      return row && toUser(row);
    });
  }

  async searchUsers(prefix: string, limit: number): Promise<UserRecord[]> {
    const rows = await this.deps.read((r) => r.usersFrom.all(prefix, Math.max(0, Math.floor(limit))));
    const matching = rows.findIndex((row) => !row.username.startsWith(prefix));
    return (matching === -1 ? rows : rows.slice(0, matching)).map(toUser);
  }

  async updateUser(userId: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const row = await this.deps.write((w) =>
      w.updateUser.get(
        patch.displayName ?? null,
        patch.passwordHash ?? null,
        patch.deactivatedAt === undefined ? 0 : 1,
        patch.deactivatedAt ?? null,
        userId,
      ),
    );
    return row && toUser(row);
  }

  async saveRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.deps.write((w) =>
      w.saveToken.run(token.tokenHash, token.userId, token.deviceId, token.expiresAt),
    );
  }

  async takeRefreshToken(tokenHash: string, now: number): Promise<RefreshTokenRecord | undefined> {
    const row = await this.deps.write((w) => w.takeToken.get(tokenHash));
    return row && row.expires_at > now ? toToken(row) : undefined;
  }

  async revokeRefreshTokens(userId: string, deviceId?: string): Promise<void> {
    await this.deps.write((w) =>
      deviceId === undefined ? w.revokeUserTokens.run(userId) : w.revokeDeviceTokens.run(userId, deviceId),
    );
  }

  async addRevocation(revocation: SessionRevocation, now: number): Promise<void> {
    await this.deps.write((w) => {
      // Revocations outlive no refresh token; dropping the expired ones here keeps the table small.
      w.dropExpiredRevocations.run(now);
      w.addRevocation.run(revocation.subject, revocation.issuedBefore, revocation.expiresAt);
    });
  }

  async revokedBefore(subjects: readonly string[], now: number): Promise<number> {
    return this.deps.read((r) => {
      let before = 0;
      for (const subject of subjects) {
        const row = r.revocation.get(subject, now);
        if (row) before = Math.max(before, row.issued_before);
      }
      return before;
    });
  }
}
