import type {
  AccountStore,
  RefreshTokenRecord,
  SessionRevocation,
  UserPatch,
  UserRecord,
} from '@natter/server-core';
import { ErrorCode, NatterError } from '@natter/server-core';
import type { Pool, QueryResultRow } from 'pg';
import { isUniqueViolation } from './errors.js';
import { type TokenRow, toToken, toUser, type UserRow } from './rows.js';
import type { NamedStatement, Statements } from './statements.js';
import { encodeText } from './text.js';

/** How the account store reaches the rest of the adapter. */
export interface PgAccountDeps {
  /** The open pool; throws UNAVAILABLE when the store is closed. */
  pool: () => Pool;
  sql: Statements;
}

/**
 * The PostgreSQL adapter's {@link AccountStore}. Each method is one autocommit statement, hence
 * atomic on its own: a username is taken by the UNIQUE index, a refresh token is taken by
 * `DELETE ... RETURNING` (of two concurrent takes, one gets the row).
 */
export class PgAccountStore implements AccountStore {
  constructor(private readonly deps: PgAccountDeps) {}

  async createUser(user: UserRecord): Promise<void> {
    try {
      await this.rows(this.deps.sql.insertUser, [
        user.id,
        user.username,
        encodeText(user.displayName),
        user.passwordHash,
        user.createdAt,
        user.deactivatedAt ?? null,
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new NatterError(ErrorCode.CONFLICT, 'username is taken');
      throw error;
    }
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    const [row] = await this.rows<UserRow>(this.deps.sql.userById, [userId]);
    return row && toUser(row);
  }

  async getUsers(userIds: readonly string[]): Promise<UserRecord[]> {
    if (userIds.length === 0) return [];
    return (await this.rows<UserRow>(this.deps.sql.usersByIds, [[...new Set(userIds)]])).map(toUser);
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const [row] = await this.rows<UserRow>(this.deps.sql.userByUsername, [username]);
    return row && toUser(row);
  }

  async searchUsers(prefix: string, limit: number): Promise<UserRecord[]> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    const rows = await this.rows<UserRow>(this.deps.sql.usersFrom, [prefix, count]);
    const end = rows.findIndex((row) => !row.username.startsWith(prefix));
    return (end === -1 ? rows : rows.slice(0, end)).map(toUser);
  }

  async updateUser(userId: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const [row] = await this.rows<UserRow>(this.deps.sql.updateUser, [
      patch.displayName === undefined ? null : encodeText(patch.displayName),
      patch.passwordHash ?? null,
      patch.deactivatedAt !== undefined,
      patch.deactivatedAt ?? null,
      userId,
    ]);
    return row && toUser(row);
  }

  async saveRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.rows(this.deps.sql.saveToken, [
      token.tokenHash,
      token.userId,
      token.deviceId,
      token.expiresAt,
    ]);
  }

  async takeRefreshToken(tokenHash: string, now: number): Promise<RefreshTokenRecord | undefined> {
    const [row] = await this.rows<TokenRow>(this.deps.sql.takeToken, [tokenHash]);
    return row && row.expires_at > now ? toToken(row) : undefined;
  }

  async revokeRefreshTokens(userId: string, deviceId?: string): Promise<void> {
    if (deviceId === undefined) await this.rows(this.deps.sql.revokeUserTokens, [userId]);
    else await this.rows(this.deps.sql.revokeDeviceTokens, [userId, deviceId]);
  }

  async addRevocation(revocation: SessionRevocation, now: number): Promise<void> {
    const { subject, issuedBefore, expiresAt } = revocation;
    // Expired rows are dropped as new ones come, so the table holds only live revocations.
    await this.rows(this.deps.sql.dropExpiredRevocations, [now]);
    await this.rows(this.deps.sql.addRevocation, [subject, issuedBefore, expiresAt]);
  }

  async revokedBefore(subjects: readonly string[], now: number): Promise<number> {
    const [row] = await this.rows<{ before: string | number }>(this.deps.sql.revokedBefore, [
      [...subjects],
      now,
    ]);
    return Number(row?.before ?? 0);
  }

  private async rows<R extends QueryResultRow = QueryResultRow>(
    statement: NamedStatement,
    values: unknown[],
  ): Promise<R[]> {
    return (await this.deps.pool().query<R>({ ...statement, values })).rows;
  }
}
