import { createHash } from 'node:crypto';
import { ErrorCode, ID_PATTERN, NatterError } from '@natter/protocol';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  importSPKI,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { Logger } from '../observability/logger.js';
import type { Authenticator, Principal, ProvisionedProfile } from '../ports/authenticator.js';

/** Which claims of the app's tokens carry what natter needs. */
export interface ClaimNames {
  /** The user's stable id. @default 'sub' */
  userId?: string;
  /** The wanted natter username. @default 'preferred_username' */
  username?: string;
  /** The display name. @default 'name' */
  displayName?: string;
  /** A device id, when the app's tokens name one. @default none (the client names its device) */
  deviceId?: string;
}

/** Options of {@link createJwtAuthenticator}. Give exactly one of `jwksUrl`, `publicKey`. */
export interface JwtAuthenticatorOptions {
  /** The identity provider's key set, e.g. `https://id.example.com/.well-known/jwks.json`. */
  jwksUrl?: string | URL;
  /** One fixed public key: a PEM `-----BEGIN PUBLIC KEY-----` (SPKI) string or a public JWK. */
  publicKey?: string | JWK;
  /** The `iss` tokens must carry (one of, when a list). */
  issuer: string | readonly string[];
  /** The `aud` tokens must carry (one of, when a list). */
  audience: string | readonly string[];
  /**
   * Accepted signature algorithms: an allowlist, so `alg: none` or an HMAC token signed with the public
   * key as secret never passes. @default ['RS256', 'PS256', 'ES256', 'EdDSA']
   */
  algorithms?: readonly string[];
  /** Claim names to read. */
  claims?: ClaimNames;
  /**
   * Create the user's natter profile from the claims on first connect or API call, and update the display
   * name when it changes (just-in-time provisioning). When false, users must exist in natter already.
   * @default true
   */
  provision?: boolean;
  /**
   * How long fetched keys are used before they are fetched again, ms. While the JWKS endpoint is down,
   * tokens keep verifying against the cached keys for this long. @default 600000 (10 minutes)
   */
  keyCacheMs?: number;
  /** Timeout of one JWKS fetch, ms. @default 5000 */
  jwksTimeoutMs?: number;
  /** The `retryAfterMs` a client is given when the JWKS endpoint cannot be reached. @default 30000 */
  jwksRetryAfterMs?: number;
  /** Clock skew allowed on `exp`, `nbf` and `iat`, seconds. @default 30 */
  clockToleranceSeconds?: number;
  /** Where a JWKS outage is reported. */
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
}

const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
/** Far above any real token; stops a huge header from costing a full parse. */
const MAX_TOKEN_CHARS = 8192;

/** jose codes that mean "this token is not acceptable", as opposed to "the key set could not be had". */
const TOKEN_FAULTS = new Set([
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JWK_INVALID',
]);

const unauthorized = (message = 'invalid token') => new NatterError(ErrorCode.UNAUTHORIZED, message);

/**
 * natter user ids are 1-64 characters of `A-Z a-z 0-9 _ . : -`. A subject that is not one (`auth0|123`,
 * an email address) is mapped to `h.` and 43 characters of its SHA-256, base64url: stable, and distinct
 * from every subject that is a valid id unless the provider itself issues `h.`-prefixed 45-character ids.
 */
export function userIdFromSubject(subject: string): string {
  if (ID_PATTERN.test(subject)) return subject;
  return `h.${createHash('sha256').update(subject).digest('base64url')}`;
}

function stringClaim(payload: JWTPayload, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const value = payload[name];
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

function keyResolver(options: JwtAuthenticatorOptions): JWTVerifyGetKey {
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  if ((options.jwksUrl === undefined) === (options.publicKey === undefined)) {
    throw new TypeError('createJwtAuthenticator needs exactly one of `jwksUrl`, `publicKey`');
  }
  if (options.jwksUrl !== undefined) {
    const url = new URL(options.jwksUrl);
    if (url.protocol !== 'https:' && url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
      throw new TypeError('jwksUrl must be https (http only for localhost)');
    }
    return createRemoteJWKSet(url, {
      cacheMaxAge: options.keyCacheMs ?? 600_000,
      timeoutDuration: options.jwksTimeoutMs ?? 5_000,
    });
  }
  const publicKey = options.publicKey!;
  if (typeof publicKey === 'string') {
    if (!publicKey.includes('BEGIN PUBLIC KEY'))
      throw new TypeError('publicKey must be a PEM SPKI public key (-----BEGIN PUBLIC KEY-----) or a JWK');
    // importSPKI binds the key to one algorithm; each allowed one gets its own import, tried by `alg`.
    const imported = new Map(
      algorithms.map((alg) => [alg, importSPKI(publicKey, alg).catch(() => undefined)] as const),
    );
    return async (header) => {
      const key = header.alg === undefined ? undefined : await imported.get(header.alg);
      if (!key) throw unauthorized('token algorithm does not match the public key');
      return key;
    };
  }
  if ('d' in publicKey) throw new TypeError('publicKey must be a public JWK (it has a private part `d`)');
  if (publicKey.kty === 'oct') throw new TypeError('publicKey must be an asymmetric key, not `oct`');
  return createLocalJWKSet({ keys: [publicKey] });
}

/**
 * Accepts the app's own JWTs, verified against its identity provider's JWKS URL (keys cached and rotated
 * with `jose`'s `createRemoteJWKSet`) or one public key, with issuer and audience checks and claim mapping.
 * With `provision` (the default), a user is created in natter from the token's claims on first use, so an
 * app never copies its users. Pass it as `createNatterServer({ authenticator })`; natter's own signup and
 * login are then off. docs/auth.md explains the modes.
 *
 * A JWKS endpoint that is down is not a crash: keys fetched earlier keep working for `keyCacheMs`; after
 * that, tokens are refused with `NATTER_UNAUTHORIZED` and `retryAfterMs`, and work again once it is back.
 * @throws TypeError for options that can never work (no key source, a private or symmetric key).
 */
export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const getKey = keyResolver(options);
  const claims = options.claims ?? {};
  const userIdClaim = claims.userId ?? 'sub';
  const usernameClaim = claims.username ?? 'preferred_username';
  const displayNameClaim = claims.displayName ?? 'name';
  const provision = options.provision ?? true;
  const retryAfterMs = options.jwksRetryAfterMs ?? 30_000;
  const now = options.now ?? Date.now;
  const verifyOptions = {
    algorithms: [...(options.algorithms ?? DEFAULT_ALGORITHMS)],
    issuer: typeof options.issuer === 'string' ? options.issuer : [...options.issuer],
    audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
    clockTolerance: options.clockToleranceSeconds ?? 30,
    requiredClaims: ['exp', ...(userIdClaim === 'sub' ? ['sub'] : [])],
  };

  return {
    async authenticate(token: string): Promise<Principal> {
      if (token.length === 0 || token.length > MAX_TOKEN_CHARS) throw unauthorized();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, { ...verifyOptions, currentDate: new Date(now()) }));
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'ERR_JWT_EXPIRED')
          throw new NatterError(ErrorCode.TOKEN_EXPIRED, 'access token expired');
        if (code === ErrorCode.UNAUTHORIZED) throw err;
        if (typeof code === 'string' && TOKEN_FAULTS.has(code)) throw unauthorized();
        // Anything else is the key set: unreachable, timed out, not JSON. The token may be fine.
        options.logger?.warn({ err }, 'JWKS endpoint unavailable; tokens are refused until it is back');
        throw new NatterError(ErrorCode.UNAUTHORIZED, 'identity provider keys unavailable', retryAfterMs);
      }
      const subject = stringClaim(payload, userIdClaim);
      if (subject === undefined || typeof payload.exp !== 'number') throw unauthorized();
      const deviceId = stringClaim(payload, claims.deviceId);
      const profile: ProvisionedProfile = {};
      const username = stringClaim(payload, usernameClaim);
      const displayName = stringClaim(payload, displayNameClaim);
      if (username !== undefined) profile.username = username;
      if (displayName !== undefined) profile.displayName = displayName;
      return {
        userId: userIdFromSubject(subject),
        ...(deviceId !== undefined && ID_PATTERN.test(deviceId) ? { deviceId } : {}),
        expiresAt: payload.exp * 1000,
        ...(provision ? { provision: profile } : {}),
      };
    },
  };
}
