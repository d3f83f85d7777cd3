import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { PASSWORD_LIMITS } from '@natter/protocol';

export { PASSWORD_LIMITS };

const SCHEME = 'scrypt';
const COST = 16_384;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 64;

function deriveKey(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // NFC so the same password typed on different platforms (composed vs decomposed accents) matches.
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function scryptOptions(cost: number, blockSize: number, parallelism: number): ScryptOptions {
  // Node's default maxmem (32 MiB) is just above what N=16384, r=8 needs; leave headroom for stored
  // hashes made with higher parameters.
  return {
    N: cost,
    r: blockSize,
    p: parallelism,
    maxmem: 256 * cost * blockSize * parallelism + 1024 * 1024,
  };
}

/**
 * Hashes a password with scrypt (N=16384, r=8, p=1, 16-byte random salt, 64-byte key).
 * Result: `scrypt$16384$8$1$<salt base64>$<hash base64>`.
 * @throws RangeError when the password is not 8..256 characters.
 */
export async function hashPassword(password: string): Promise<string> {
  if (password.length < PASSWORD_LIMITS.minLength || password.length > PASSWORD_LIMITS.maxLength) {
    throw new RangeError(
      `password must be ${PASSWORD_LIMITS.minLength}..${PASSWORD_LIMITS.maxLength} characters`,
    );
  }
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, KEY_BYTES, scryptOptions(COST, BLOCK_SIZE, PARALLELISM));
  return [SCHEME, COST, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

interface ParsedHash {
  cost: number;
  blockSize: number;
  parallelism: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== SCHEME) return undefined;
  const [cost, blockSize, parallelism] = parts
    .slice(1, 4)
    .map((p) => (/^\d{1,8}$/.test(p!) ? Number(p) : Number.NaN));
  // Bounds keep a corrupted or hostile row from making one login allocate gigabytes.
  const isPowerOfTwo = cost !== undefined && cost > 1 && (cost & (cost - 1)) === 0;
  if (!isPowerOfTwo || cost > 2 ** 20) return undefined;
  if (!blockSize || blockSize > 32 || !parallelism || parallelism > 16) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 128) return undefined;
  return { cost, blockSize, parallelism, salt, key };
}

/**
 * Hash of a random password nobody knows. Logins for unknown users verify against it, so they cost the
 * same scrypt work as a wrong password and timing does not reveal which usernames exist.
 */
export const DUMMY_HASH: string = [
  SCHEME,
  COST,
  BLOCK_SIZE,
  PARALLELISM,
  randomBytes(SALT_BYTES).toString('base64'),
  randomBytes(KEY_BYTES).toString('base64'),
].join('$');

const DUMMY_PARSED = parseHash(DUMMY_HASH)!;

/**
 * Checks a password against a stored hash in constant time. Returns false (never throws) for a wrong
 * password, an over-long password or a malformed hash; pass {@link DUMMY_HASH} when the user is unknown.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const own = parseHash(stored);
  const parsed = own ?? DUMMY_PARSED;
  // Over-long input still runs one derivation (on a truncated copy) so its timing matches a normal failure.
  const tooLong = password.length > PASSWORD_LIMITS.maxLength;
  const candidate = tooLong ? password.slice(0, PASSWORD_LIMITS.maxLength) : password;
  const options = scryptOptions(parsed.cost, parsed.blockSize, parsed.parallelism);
  const key = await deriveKey(candidate, parsed.salt, parsed.key.length, options);
  const matches = timingSafeEqual(key, parsed.key);
  return matches && own !== undefined && !tooLong && stored !== DUMMY_HASH;
}
