import { createHash } from 'node:crypto';
import { ErrorCode, isNatterError } from '@natter/protocol';
import { createMemoryStorage } from '@natter/storage-memory';
import { SignJWT, UnsecuredJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { TokenService } from '../src/accounts/token-service.js';
import type { RefreshTokenRecord, StorageAdapter } from '../src/ports/storage.js';

const SECRET = 'a-secret-of-at-least-thirty-two-bytes!';
const T0 = Date.UTC(2030, 0, 1);

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isNatterError(err) ? err.code : `not a NatterError: ${String(err)}`;
  }
}

describe('TokenService', () => {
  let storage: StorageAdapter;
  let clock: { now: number };
  let tokens: TokenService;
  let saved: RefreshTokenRecord[];

  beforeEach(async () => {
    storage = createMemoryStorage();
    await storage.open();
    await storage.accounts.createUser({
      id: 'u_1',
      username: 'ann',
      displayName: 'Ann',
      passwordHash: null,
      createdAt: T0,
    });
    clock = { now: T0 };
    saved = [];
    const accounts = storage.accounts;
    const spying = Object.create(accounts) as typeof accounts;
    spying.saveRefreshToken = async (record) => {
      saved.push(record);
      return accounts.saveRefreshToken(record);
    };
    tokens = new TokenService({ secret: SECRET, accessTtlSeconds: 900 }, spying, () => clock.now);
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new TokenService({ secret: 'short' }, storage.accounts)).toThrow(RangeError);
    expect(() => new TokenService({ secret: new Uint8Array(31) }, storage.accounts)).toThrow(RangeError);
    expect(() => new TokenService({ secret: new Uint8Array(32) }, storage.accounts)).not.toThrow();
  });

  it('issues an access token that authenticates as the user and device', async () => {
    const issued = await tokens.issue('u_1', 'dev_a');
    expect(issued.expiresAt).toBe(T0 + 900_000);
    await expect(tokens.authenticate(issued.accessToken)).resolves.toEqual({
      userId: 'u_1',
      deviceId: 'dev_a',
      sessionId: issued.refreshToken.split('.')[0],
      issuedAt: T0,
      expiresAt: T0 + 900_000,
    });
  });

  it('stores only the SHA-256 of the refresh token', async () => {
    const issued = await tokens.issue('u_1', 'dev_a');
    expect(saved).toHaveLength(1);
    expect(saved[0]!.tokenHash).toBe(createHash('sha256').update(issued.refreshToken).digest('hex'));
    expect(JSON.stringify(saved)).not.toContain(issued.refreshToken);
    // `<session>.<32 random bytes>.<mac>`
    const [session, random, mac] = issued.refreshToken.split('.');
    expect(session).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(random!, 'base64url')).toHaveLength(32);
    expect(mac).toHaveLength(32);
  });

  it('rotates refresh tokens and refuses a used one', async () => {
    const first = await tokens.issue('u_1', 'dev_a');
    const second = await tokens.refresh(first.refreshToken);
    expect(second).toMatchObject({ userId: 'u_1', deviceId: 'dev_a' });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const third = await tokens.refresh(second.refreshToken);
    // One session through every rotation.
    expect((await tokens.authenticate(third.accessToken)).sessionId).toBe(first.refreshToken.split('.')[0]);
    expect(await codeOf(tokens.refresh(first.refreshToken))).toBe(ErrorCode.UNAUTHORIZED);
    // The reuse revoked the family: the newest refresh token is refused too.
    expect(await codeOf(tokens.refresh(third.refreshToken))).toBe(ErrorCode.UNAUTHORIZED);
  });

  it('refuses an expired refresh token', async () => {
    const issued = await tokens.issue('u_1', 'dev_a');
    clock.now += 31 * 24 * 3600 * 1000;
    expect(await codeOf(tokens.refresh(issued.refreshToken))).toBe(ErrorCode.UNAUTHORIZED);
  });

  it('revokes the refresh tokens of one device or of all', async () => {
    const a = await tokens.issue('u_1', 'dev_a');
    const b = await tokens.issue('u_1', 'dev_b');
    await tokens.revoke('u_1', 'dev_a');
    expect(await codeOf(tokens.refresh(a.refreshToken))).toBe(ErrorCode.UNAUTHORIZED);
    const b2 = await tokens.refresh(b.refreshToken);
    await tokens.revoke('u_1');
    expect(await codeOf(tokens.refresh(b2.refreshToken))).toBe(ErrorCode.UNAUTHORIZED);
  });

  it('maps an expired access token to TOKEN_EXPIRED', async () => {
    const issued = await tokens.issue('u_1', 'dev_a');
    clock.now += 901_000;
    expect(await codeOf(tokens.authenticate(issued.accessToken))).toBe(ErrorCode.TOKEN_EXPIRED);
  });

  it('refuses an unsigned (alg: none) token', async () => {
    const token = new UnsecuredJWT({ did: 'dev_a' })
      .setIssuer('natter')
      .setSubject('u_1')
      .setIssuedAt(T0 / 1000)
      .setExpirationTime(T0 / 1000 + 600)
      .setJti('j')
      .encode();
    expect(await codeOf(tokens.authenticate(token))).toBe(ErrorCode.UNAUTHORIZED);
  });

  it('refuses a token signed with the right secret but another algorithm', async () => {
    const token = await new SignJWT({ did: 'dev_a' })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuer('natter')
      .setSubject('u_1')
      .setIssuedAt(T0 / 1000)
      .setExpirationTime(T0 / 1000 + 600)
      .setJti('j')
      .sign(new TextEncoder().encode(SECRET));
    expect(await codeOf(tokens.authenticate(token))).toBe(ErrorCode.UNAUTHORIZED);
  });

  it('refuses tokens with another secret, another issuer, a changed payload, or no token at all', async () => {
    const sign = (secret: string, issuer: string) =>
      new SignJWT({ did: 'dev_a' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(issuer)
        .setSubject('u_1')
        .setIssuedAt(T0 / 1000)
        .setExpirationTime(T0 / 1000 + 600)
        .setJti('j')
        .sign(new TextEncoder().encode(secret));
    expect(
      await codeOf(tokens.authenticate(await sign('another-secret-of-at-least-32-bytes!!', 'natter'))),
    ).toBe(ErrorCode.UNAUTHORIZED);
    expect(await codeOf(tokens.authenticate(await sign(SECRET, 'someone-else')))).toBe(
      ErrorCode.UNAUTHORIZED,
    );

    const [header, , signature] = (await tokens.issue('u_1', 'dev_a')).accessToken.split('.');
    const forged = Buffer.from(
      JSON.stringify({ sub: 'u_2', did: 'dev_a', iss: 'natter', iat: 1, exp: 9e9, jti: 'j' }),
    ).toString('base64url');
    expect(await codeOf(tokens.authenticate(`${header}.${forged}.${signature}`))).toBe(
      ErrorCode.UNAUTHORIZED,
    );
    expect(await codeOf(tokens.authenticate(''))).toBe(ErrorCode.UNAUTHORIZED);
    expect(await codeOf(tokens.authenticate('not.a.jwt'))).toBe(ErrorCode.UNAUTHORIZED);
  });
});
