import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode, ID_PATTERN, NatterError } from '@natter/protocol';
import { jwtVerify, SignJWT } from 'jose';
import type { TokenOptions } from '../config.js';
import type { Authenticator, Principal } from '../ports/authenticator.js';
import type { AccountStore } from '../ports/storage.js';
import { tokenSecretBytes } from './secret.js';

/** A freshly issued credential pair. */
export interface IssuedTokens {
  /** HS256 JWT to send as `Authorization: Bearer <token>` and on the WebSocket handshake. */
  accessToken: string;
  /** Opaque one-time token for `POST /v1/auth/refresh`; only its SHA-256 is stored. */
  refreshToken: string;
  /** When the access token expires, ms since the epoch. */
  expiresAt: number;
}

/** Result of {@link TokenService.refresh}: the new pair and whom it belongs to. */
export interface RefreshedTokens extends IssuedTokens {
  userId: string;
  deviceId: string;
}

const ISSUER = 'natter';
const ALGORITHM = 'HS256';
/** Far above any token we issue; stops a huge header from costing a full parse. */
const MAX_TOKEN_CHARS = 4096;
const MAX_REFRESH_TOKEN_CHARS = 256;

const unauthorized = () => new NatterError(ErrorCode.UNAUTHORIZED, 'invalid token');

/** SHA-256 hex of a refresh token: what the store keeps, so a leaked table cannot be replayed. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function positiveSeconds(value: number | undefined, fallback: number, name: string): number {
  const seconds = value ?? fallback;
  if (!Number.isInteger(seconds) || seconds <= 0)
    throw new RangeError(`tokens.${name} must be a positive integer`);
  return seconds;
}

/**
 * natter's built-in credentials: short-lived HS256 access tokens and rotating one-time refresh tokens.
 * Implements {@link Authenticator}, so the WebSocket handshake and the HTTP API verify tokens through it.
 */
export class TokenService implements Authenticator {
  private readonly key: Uint8Array;
  private readonly accessTtlSeconds: number;
  private readonly refreshTtlSeconds: number;

  /**
   * @param options secret (at least 32 bytes) and lifetimes.
   * @param accounts where refresh token hashes are kept.
   * @param now clock, ms since the epoch. @default Date.now
   * @throws TypeError when the secret is missing (the message says how to make one); RangeError when it is
   * shorter than 32 bytes or a lifetime is not a positive integer.
   */
  constructor(
    options: TokenOptions,
    private readonly accounts: AccountStore,
    private readonly now: () => number = Date.now,
  ) {
    this.key = tokenSecretBytes(options.secret);
    this.accessTtlSeconds = positiveSeconds(options.accessTtlSeconds, 900, 'accessTtlSeconds');
    this.refreshTtlSeconds = positiveSeconds(options.refreshTtlSeconds, 2_592_000, 'refreshTtlSeconds');
  }

  /** Issues an access token and a stored refresh token for one device of a user. */
  async issue(userId: string, deviceId: string): Promise<IssuedTokens> {
    const nowMs = this.now();
    const issuedAt = Math.floor(nowMs / 1000);
    const expiresAtSeconds = issuedAt + this.accessTtlSeconds;
    const accessToken = await new SignJWT({ did: deviceId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(userId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAtSeconds)
      .setJti(randomUUID())
      .sign(this.key);
    const refreshToken = randomBytes(32).toString('base64url');
    await this.accounts.saveRefreshToken({
      tokenHash: hashRefreshToken(refreshToken),
      userId,
      deviceId,
      expiresAt: nowMs + this.refreshTtlSeconds * 1000,
    });
    return { accessToken, refreshToken, expiresAt: expiresAtSeconds * 1000 };
  }

  /**
   * Exchanges a refresh token for a new pair. The old token is consumed (rotation), so presenting it a
   * second time fails.
   * @throws NatterError UNAUTHORIZED for an unknown, used, expired or malformed token, or a deleted user.
   */
  async refresh(refreshToken: string): Promise<RefreshedTokens> {
    if (refreshToken.length === 0 || refreshToken.length > MAX_REFRESH_TOKEN_CHARS) throw unauthorized();
    const record = await this.accounts.takeRefreshToken(hashRefreshToken(refreshToken), this.now());
    if (!record) throw new NatterError(ErrorCode.UNAUTHORIZED, 'invalid refresh token');
    if (!(await this.accounts.getUser(record.userId)))
      throw new NatterError(ErrorCode.UNAUTHORIZED, 'invalid refresh token');
    const issued = await this.issue(record.userId, record.deviceId);
    return { ...issued, userId: record.userId, deviceId: record.deviceId };
  }

  /**
   * Verifies an access token. Only HS256 is accepted: an allowlist, so `alg: none` or a token signed
   * with another algorithm never gets through.
   * @throws NatterError TOKEN_EXPIRED for an expired token, UNAUTHORIZED for anything else wrong.
   */
  async authenticate(token: string): Promise<Principal> {
    if (token.length === 0 || token.length > MAX_TOKEN_CHARS) throw unauthorized();
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      // jose errors carry stable codes; checking the code survives duplicate module copies.
      if ((err as { code?: unknown }).code === 'ERR_JWT_EXPIRED') {
        throw new NatterError(ErrorCode.TOKEN_EXPIRED, 'access token expired');
      }
      throw unauthorized();
    }
    const { sub, did, exp } = payload;
    if (typeof sub !== 'string' || !ID_PATTERN.test(sub) || typeof exp !== 'number') throw unauthorized();
    if (did !== undefined && (typeof did !== 'string' || !ID_PATTERN.test(did))) throw unauthorized();
    return { userId: sub, ...(did !== undefined ? { deviceId: did } : {}), expiresAt: exp * 1000 };
  }

  /**
   * Revokes refresh tokens: of one device, or of every device when `deviceId` is omitted. Access tokens
   * already issued stay valid until they expire (at most `accessTtlSeconds`); the server closes the
   * device's sockets at logout.
   */
  async revoke(userId: string, deviceId?: string): Promise<void> {
    await this.accounts.revokeRefreshTokens(userId, deviceId);
  }
}
