import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed media URLs: `exp` and an HMAC-SHA256 of the path and `exp` stand in for the bearer token, so an
 * `<img src>` works and no access token lands in a URL (and from there in logs or a Referer).
 */
export class UrlSigner {
  private readonly key: Buffer;

  /** `secret`: shared by every node of a cluster; a random one per process otherwise. */
  constructor(secret: string | Uint8Array | undefined) {
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
    if (this.key.length < 16) throw new TypeError('the media URL secret must have at least 16 bytes');
  }

  sign(pathname: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${pathname}\n${exp}`).digest('base64url');
  }

  verify(pathname: string, exp: number, sig: string, now: number): boolean {
    if (!Number.isSafeInteger(exp) || exp < now) return false;
    const expected = Buffer.from(this.sign(pathname, exp));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
