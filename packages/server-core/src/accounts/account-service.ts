import {
  type ChangePasswordBody,
  ErrorCode,
  type LoginBody,
  NatterError,
  newPrefixedId,
  type Session,
  type SignupBody,
  type UserProfile,
} from '@natter/protocol';
import type { Principal } from '../ports/authenticator.js';
import type { AccountStore, UserRecord } from '../ports/storage.js';
import type { AuthLimits } from './auth-limits.js';
import { checkPasswordStrength, type PasswordScore } from './password-policy.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import type { TokenService } from './token-service.js';

/** Dependencies of {@link AccountService}. */
export interface AccountServiceOptions {
  accounts: AccountStore;
  /** The built-in token service; without it signup, login, refresh and logout are unavailable. */
  tokens: TokenService | undefined;
  /** Signup and login limits per address, per account and address, and per account. */
  limits: AuthLimits;
  /** Whether signup creates accounts; when false it answers NATTER_FORBIDDEN. */
  allowSignup: boolean;
  /** Lowest zxcvbn score a new password needs. */
  minPasswordScore: PasswordScore;
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
  async signup(input: SignupBody, clientIp?: string): Promise<Session> {
    const { accounts, allowSignup, now } = this.options;
    const tokens = this.requireTokens();
    if (!allowSignup) throw new NatterError(ErrorCode.FORBIDDEN, 'signup is disabled on this server');
    this.options.limits.takeSignup(clientIp);
    checkPasswordStrength(
      input.password,
      [input.username, input.displayName ?? ''],
      this.options.minPasswordScore,
    );
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
   * the same work, and repeated failures are throttled per address, per (username, address) and per
   * username (see {@link AuthLimits}).
   */
  async login(input: LoginBody, clientIp: string | undefined): Promise<Session> {
    const { accounts, limits, now } = this.options;
    const tokens = this.requireTokens();
    limits.checkLogin(input.username, clientIp);
    const user = await accounts.findUserByUsername(input.username);
    // Unknown users (and accounts without a password) verify against a dummy hash: the same scrypt work
    // and the same answer as a wrong password, so neither body nor timing reveals who exists.
    const valid = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
    // A deactivated account answers like a wrong password: the same work, the same answer.
    if (!user || !valid || user.deactivatedAt != null) {
      limits.loginFailed(input.username, clientIp);
      throw invalidCredentials();
    }
    limits.loginSucceeded(input.username, clientIp);
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
   * Ends the caller's session, or every session of the user: the refresh tokens go, and the access tokens
   * are refused on every node once their revocation cache expires. A token without a session or device
   * claim cannot name one session, so it ends everything. Returns the device logged out (undefined: all).
   */
  async logout(principal: Principal, allDevices: boolean): Promise<string | undefined> {
    const tokens = this.requireTokens();
    const { userId, deviceId, sessionId } = principal;
    if (allDevices || sessionId === undefined || deviceId === undefined) {
      await tokens.revokeUser(userId);
      return undefined;
    }
    await tokens.revokeSession(sessionId);
    await tokens.revoke(userId, deviceId);
    return deviceId;
  }

  /**
   * Changes the caller's password after checking the current one (throttled like a login): every session
   * of the user is revoked, and the caller gets a new one on the same device.
   */
  async changePassword(
    principal: Principal,
    input: ChangePasswordBody,
    clientIp: string | undefined,
  ): Promise<Session> {
    const { accounts, limits, now } = this.options;
    const tokens = this.requireTokens();
    const user = await accounts.getUser(principal.userId);
    if (!user || user.deactivatedAt != null) throw invalidCredentials();
    limits.checkLogin(user.username, clientIp);
    if (!(await verifyPassword(input.currentPassword, user.passwordHash ?? DUMMY_HASH))) {
      limits.loginFailed(user.username, clientIp);
      throw invalidCredentials();
    }
    checkPasswordStrength(
      input.newPassword,
      [user.username, user.displayName],
      this.options.minPasswordScore,
    );
    await accounts.updateUser(user.id, { passwordHash: await hashPassword(input.newPassword) });
    await tokens.revokeUser(user.id);
    const deviceId = principal.deviceId ?? newPrefixedId('dev', now());
    return { user: toProfile(user), deviceId, ...(await tokens.issue(user.id, deviceId)) };
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
