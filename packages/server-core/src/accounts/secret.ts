/** The shortest HS256 secret accepted, bytes: the hash's output size, as RFC 7518 asks. */
export const MIN_SECRET_BYTES = 32;

const HOW_TO_MAKE_ONE =
  'make one with `openssl rand -base64 48` and pass it as `tokens: { secret }` (the reference server reads NATTER_TOKEN_SECRET)';

/**
 * The token secret as bytes, or a clear error at construction: a missing secret used to surface as
 * "Cannot read properties of undefined (reading 'byteLength')" from deep inside the token service.
 * @throws TypeError when the secret is missing or not a string or bytes; RangeError when it is too short.
 */
export function tokenSecretBytes(secret: unknown): Uint8Array {
  if (secret === undefined || secret === null || secret === '') {
    throw new TypeError(`tokens.secret is missing: ${HOW_TO_MAKE_ONE}`);
  }
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
    throw new TypeError(`tokens.secret must be a string or a Uint8Array: ${HOW_TO_MAKE_ONE}`);
  }
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new RangeError(
      `tokens.secret must be at least ${MIN_SECRET_BYTES} bytes, got ${bytes.byteLength}: ${HOW_TO_MAKE_ONE}`,
    );
  }
  return bytes;
}
