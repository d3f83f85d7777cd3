import {
  ErrorCode,
  type LoginBody,
  NatterError,
  newPrefixedId,
  type Session,
  type SignupBody,
  type UserProfile,
} from '@natter/protocol';
import type { AccountStore, UserRecord } from '../ports/storage.js';
import type { LoginThrottle } from './login-throttle.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import type { TokenService } from './token-service.js';

/** Dependencies of {@link AccountService}. */
export interface AccountServiceOptions {
  accounts: AccountStore;
  /** The built-in token service; without it signup, login, refresh and logout are unavailable. */
  tokens: TokenService | undefined;
  throttle: LoginThrottle;
  /** Whether signup creates accounts; when false it answers NATTER_FORBIDDEN. */
  allowSignup: boolean;
  now: () => number;
}

const invalidCredentials = () =>
  new NatterError(ErrorCode.INVALID_CREDENTIALS, 'invalid username or password');
const userNotFound = () => new NatterError(ErrorCode.NOT_FOUND, 'user not found');

/** The public profile of a user (never the password hash). */
export function toProfile(user: UserRecord): UserProfile {
  return { id: user.id, username: user.username, displayName: user.displayName, createdAt: user.createdAt };
}

/**
 * The account domain: signup, login, refresh, logout and profiles. Transport-neutral like ChatService;
 * the HTTP routes are thin wrappers over it.
 */
export class AccountService {
  constructor(private readonly options: AccountServiceOptions) {}

  /** True when the built-in token service runs (the auth routes exist). */
  get hasTokens(): boolean {
    return this.options.tokens !== undefined;
  }

  /** Creates an account and issues the first session. */
  async signup(input: SignupBody): Promise<Session> {
    const { accounts, allowSignup, now } = this.options;
    const tokens = this.requireTokens();
    if (!allowSignup) throw new NatterError(ErrorCode.FORBIDDEN, 'signup is disabled on this server');
    // Checked before hashing so a taken name costs no scrypt work; createUser still enforces it atomically.
    if (await accounts.findUserByUsername(input.username)) {
      throw new NatterError(ErrorCode.CONFLICT, 'username is taken');
    }
    const at = now();
    const user: UserRecord = {
      id: newPrefixedId('u', at),
      username: input.username,
      displayName: input.displayName ?? input.username,
      passwordHash: await hashPassword(input.password),
      createdAt: at,
    };
    await accounts.createUser(user);
    const deviceId = input.deviceId ?? newPrefixedId('dev', at);
    return { user: toProfile(user), deviceId, ...(await tokens.issue(user.id, deviceId)) };
  }

  /**
   * Checks a password and issues a session. Unknown users and wrong passwords get the same answer after
   * the same work, and repeated failures are throttled per username and per address.
   */
  async login(input: LoginBody, clientIp: string | undefined): Promise<Session> {
    const { accounts, throttle, now } = this.options;
    const tokens = this.requireTokens();
    const keys = [`user:${input.username}`, ...(clientIp ? [`ip:${clientIp}`] : [])];
    throttle.check(keys);
    const user = await accounts.findUserByUsername(input.username);
    // Unknown users (and accounts without a password) verify against a dummy hash: the same scrypt work
    // and the same answer as a wrong password, so neither body nor timing reveals who exists.
    const valid = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
    // A deactivated account answers like a wrong password: the same work, the same answer.
    if (!user || !valid || user.deactivatedAt != null) {
      throttle.recordFailure(keys);
      throw invalidCredentials();
    }
    // Only the username's counter resets: resetting the address's would let one valid account launder an
    // attacker's guesses against other accounts from the same address.
    throttle.reset([`user:${input.username}`]);
    const deviceId = input.deviceId ?? newPrefixedId('dev', now());
    return { user: toProfile(user), deviceId, ...(await tokens.issue(user.id, deviceId)) };
  }

  /** Rotates a refresh token into a new session. */
  async refresh(refreshToken: string): Promise<Session> {
    const refreshed = await this.requireTokens().refresh(refreshToken);
    const user = await this.options.accounts.getUser(refreshed.userId);
    if (!user || user.deactivatedAt != null)
      throw new NatterError(ErrorCode.UNAUTHORIZED, 'invalid refresh token');
    const { accessToken, expiresAt, deviceId } = refreshed;
    return { user: toProfile(user), deviceId, accessToken, refreshToken: refreshed.refreshToken, expiresAt };
  }

  /**
   * Ends the session of one device, or of every device. A token without a device claim cannot name one
   * device, so it ends everything. Returns the device logged out (undefined: all of them).
   */
  async logout(
    userId: string,
    deviceId: string | undefined,
    allDevices: boolean,
  ): Promise<string | undefined> {
    const target = allDevices ? undefined : deviceId;
    await this.requireTokens().revoke(userId, target);
    return target;
  }

  /** The caller's profile (an app's own authenticator may name users without an account here). */
  async me(userId: string): Promise<UserProfile> {
    return this.getUser(userId);
  }

  /** Updates the caller's display name. */
  async updateProfile(userId: string, patch: { displayName: string }): Promise<UserProfile> {
    const user = await this.options.accounts.updateUser(userId, { displayName: patch.displayName });
    if (!user) throw userNotFound();
    return toProfile(user);
  }

  /** A user's public profile. */
  async getUser(userId: string): Promise<UserProfile> {
    const user = await this.options.accounts.getUser(userId);
    if (!user) throw userNotFound();
    return toProfile(user);
  }

  /** Users whose username starts with `prefix`, by username. */
  async searchUsers(prefix: string, limit: number): Promise<UserProfile[]> {
    return (await this.options.accounts.searchUsers(prefix, limit)).map(toProfile);
  }

  private requireTokens(): TokenService {
    const { tokens } = this.options;
    // The auth routes are not mounted without the token service; this guards direct calls.
    if (!tokens) throw new NatterError(ErrorCode.NOT_FOUND, 'built-in accounts are not enabled');
    return tokens;
  }
}
