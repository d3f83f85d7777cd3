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
import { copyOptional, copyRecord } from './copy.js';
import type { MemoryState } from './state.js';

/** The memory adapter's {@link AccountStore}. Each method is one synchronous step, hence atomic. */
export class MemoryAccountStore implements AccountStore {
  constructor(private readonly state: MemoryState) {}

  async createUser(user: UserRecord): Promise<void> {
    if (this.state.usernames.has(user.username)) {
      throw new NatterError(ErrorCode.CONFLICT, 'username is taken');
    }
    if (this.state.users.has(user.id)) throw new NatterError(ErrorCode.CONFLICT, 'user id is taken');
    this.state.users.set(user.id, copyRecord(user));
    this.state.usernames.set(user.username, user.id);
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    return copyOptional(this.state.users.get(userId));
  }

  async getUsers(userIds: readonly string[]): Promise<UserRecord[]> {
    const found: UserRecord[] = [];
    for (const id of new Set(userIds)) {
      const user = this.state.users.get(id);
      if (user) found.push(copyRecord(user));
    }
    return found;
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const id = this.state.usernames.get(username);
    return copyOptional(id === undefined ? undefined : this.state.users.get(id));
  }

  async searchUsers(prefix: string, limit: number): Promise<UserRecord[]> {
    return [...this.state.usernames.keys()]
      .filter((username) => username.startsWith(prefix))
      .sort()
      .slice(0, Math.max(0, limit))
      .map((username) => copyRecord(this.state.users.get(this.state.usernames.get(username)!)!));
  }

  async updateUser(userId: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const user = this.state.users.get(userId);
    if (!user) return undefined;
    const updated = applyUserPatch(user, patch);
    this.state.users.set(userId, updated);
    return copyRecord(updated);
  }

  async saveRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.state.refreshTokens.set(token.tokenHash, copyRecord(token));
  }

  async takeRefreshToken(tokenHash: string, now: number): Promise<RefreshTokenRecord | undefined> {
    const token = this.state.refreshTokens.get(tokenHash);
    this.state.refreshTokens.delete(tokenHash);
    return token && token.expiresAt > now ? token : undefined;
  }

  async revokeRefreshTokens(userId: string, deviceId?: string): Promise<void> {
    for (const [hash, token] of this.state.refreshTokens) {
      if (token.userId === userId && (deviceId === undefined || token.deviceId === deviceId)) {
        this.state.refreshTokens.delete(hash);
      }
    }
  }

  async addRevocation(revocation: SessionRevocation, now: number): Promise<void> {
    for (const [subject, found] of this.state.revocations) {
      if (found.expiresAt <= now) this.state.revocations.delete(subject);
    }
    const previous = this.state.revocations.get(revocation.subject);
    this.state.revocations.set(revocation.subject, {
      subject: revocation.subject,
      issuedBefore: Math.max(revocation.issuedBefore, previous?.issuedBefore ?? 0),
      expiresAt: Math.max(revocation.expiresAt, previous?.expiresAt ?? 0),
    });
  }

  async revokedBefore(subjects: readonly string[], now: number): Promise<number> {
    let before = 0;
    for (const subject of subjects) {
      const found = this.state.revocations.get(subject);
      if (!found) continue;
      if (found.expiresAt <= now) this.state.revocations.delete(subject);
      else before = Math.max(before, found.issuedBefore);
    }
    return before;
  }
}
