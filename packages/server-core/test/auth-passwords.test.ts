import { describe, expect, it } from 'vitest';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../src/accounts/passwords.js';

describe('passwords', () => {
  it('stores scrypt parameters, a 16-byte salt and a 64-byte key', async () => {
    const hash = await hashPassword('correct horse');
    const [scheme, n, r, p, salt, key] = hash.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(salt!, 'base64')).toHaveLength(16);
    expect(Buffer.from(key!, 'base64')).toHaveLength(64);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
  });

  it('salts every hash differently', async () => {
    expect(await hashPassword('correct horse')).not.toBe(await hashPassword('correct horse'));
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const hash = await hashPassword('caf\u00e9 au lait');
    expect(await verifyPassword('cafe\u0301 au lait', hash)).toBe(true);
  });

  it('refuses passwords shorter than 8 or longer than 256 characters at hashing', async () => {
    await expect(hashPassword('short')).rejects.toThrow(RangeError);
    await expect(hashPassword('x'.repeat(257))).rejects.toThrow(RangeError);
    await expect(hashPassword('x'.repeat(256))).resolves.toMatch(/^scrypt\$/);
  });

  it('never verifies anything against the dummy hash', async () => {
    expect(await verifyPassword('', DUMMY_HASH)).toBe(false);
    expect(await verifyPassword('correct horse', DUMMY_HASH)).toBe(false);
  });

  it('answers false for malformed or hostile stored hashes instead of throwing', async () => {
    for (const stored of [
      '',
      'bcrypt$x',
      'scrypt$1$8$1$AAAA$AAAA',
      'scrypt$1073741824$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==',
    ]) {
      expect(await verifyPassword('correct horse', stored)).toBe(false);
    }
  });

  it('refuses an over-long password even if its prefix matches', async () => {
    const hash = await hashPassword('x'.repeat(256));
    expect(await verifyPassword('x'.repeat(300), hash)).toBe(false);
  });
});
