import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
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

/** Revocation subject of one session. */
export const sessionSubject = (sessionId: string) => `s:${sessionId}`;
/** Revocation subject of every session of a user. */
export const userSubject = (userId: string) => `u:${userId}`;
/** `issuedBefore` of a whole-session revocation: every token of the session, whenever issued. */
const WHOLE_SESSION = Number.MAX_SAFE_INTEGER;
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

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
    /** Told after this node revokes something, so its revocation cache forgets at once. */
    private readonly onRevoked: () => void = () => {},
  ) {
    this.key = tokenSecretBytes(options.secret);
    this.accessTtlSeconds = positiveSeconds(options.accessTtlSeconds, 900, 'accessTtlSeconds');
    this.refreshTtlSeconds = positiveSeconds(options.refreshTtlSeconds, 2_592_000, 'refreshTtlSeconds');
  }

  /**
   * Issues an access token and a stored refresh token for one device of a user, in a session: a new one
   * (login, signup) unless `sessionId` continues one (refresh).
   */
  async issue(
    userId: string,
    deviceId: string,
    sessionId = randomBytes(16).toString('base64url'),
  ): Promise<IssuedTokens> {
    const nowMs = this.now();
    const issuedAt = Math.floor(nowMs / 1000);
    const expiresAtSeconds = issuedAt + this.accessTtlSeconds;
    // `sid` names the session; `iam` is the issue time in ms (`iat` has whole seconds, too coarse to
    // tell a token issued just before a password change from one issued just after).
    const accessToken = await new SignJWT({ did: deviceId, sid: sessionId, iam: nowMs })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(userId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAtSeconds)
      .setJti(randomUUID())
      .sign(this.key);
    const refreshToken = this.refreshTokenFor(sessionId);
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
    const sessionId = this.sessionOfRefreshToken(refreshToken);
    const invalid = () => new NatterError(ErrorCode.UNAUTHORIZED, 'invalid refresh token');
    const now = this.now();
    // A revoked session's refresh tokens are refused even while their rows exist (reuse by another holder).
    if (sessionId && (await this.accounts.revokedBefore([sessionSubject(sessionId)], now)) > 0)
      throw invalid();
    const record = await this.accounts.takeRefreshToken(hashRefreshToken(refreshToken), now);
    if (!record) {
      // A token we signed that is gone was used before (or expired, or logged out): its holder and the one
      // who used it first cannot be told apart, so the whole family is revoked (RFC 9700 §4.14.2).
      if (sessionId) await this.revokeSession(sessionId);
      throw invalid();
    }
    if (!(await this.accounts.getUser(record.userId))) throw invalid();
    const issued = await this.issue(record.userId, record.deviceId, sessionId);
    return { ...issued, userId: record.userId, deviceId: record.deviceId };
  }

  /**
   * Revokes one session: its access tokens are refused on every node within the revocation cache time,
   * and its refresh tokens are refused at once.
   */
  async revokeSession(sessionId: string): Promise<void> {
    const now = this.now();
    await this.accounts.addRevocation(
      {
        subject: sessionSubject(sessionId),
        issuedBefore: WHOLE_SESSION,
        expiresAt: now + this.refreshTtlSeconds * 1000,
      },
      now,
    );
    this.onRevoked();
  }

  /** Revokes every session of a user issued until now (password change, logout of all devices). */
  async revokeUser(userId: string): Promise<void> {
    const now = this.now();
    await this.accounts.addRevocation(
      { subject: userSubject(userId), issuedBefore: now, expiresAt: now + this.refreshTtlSeconds * 1000 },
      now,
    );
    await this.accounts.revokeRefreshTokens(userId);
    this.onRevoked();
  }

  /**
   * A refresh token names its session and is signed: `<sessionId>.<random>.<mac>`. The signature lets a
   * reused token (one whose row is gone) revoke its session without anyone being able to revoke another's
   * session by making up a token.
   */
  private refreshTokenFor(sessionId: string): string {
    const body = `${sessionId}.${randomBytes(32).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** The session a refresh token we signed names; undefined for anything else (old-format tokens too). */
  private sessionOfRefreshToken(token: string): string | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [sessionId, random, mac] = parts as [string, string, string];
    if (!SESSION_ID.test(sessionId)) return undefined;
    const expected = Buffer.from(this.mac(`${sessionId}.${random}`));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? sessionId : undefined;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(`natter-refresh:${body}`).digest('base64url').slice(0, 32);
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
    const { sub, did, exp, sid, iam, iat } = payload;
    if (typeof sub !== 'string' || !ID_PATTERN.test(sub) || typeof exp !== 'number') throw unauthorized();
    if (did !== undefined && (typeof did !== 'string' || !ID_PATTERN.test(did))) throw unauthorized();
    if (sid !== undefined && (typeof sid !== 'string' || !SESSION_ID.test(sid))) throw unauthorized();
    const issuedAt = typeof iam === 'number' && Number.isSafeInteger(iam) ? iam : (iat ?? 0) * 1000;
    return {
      userId: sub,
      ...(did !== undefined ? { deviceId: did } : {}),
      ...(sid !== undefined ? { sessionId: sid } : {}),
      issuedAt,
      expiresAt: exp * 1000,
    };
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
