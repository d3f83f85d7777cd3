import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/base64.js';
import {
  decryptFile,
  type EncryptedFileRef,
  encryptFile,
  isEncryptedFileRef,
  MAX_THUMBNAIL_BYTES,
} from '../../src/e2ee/encrypted-file.js';

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) % 256);

async function sealed(size: number, chunkBytes = 1000) {
  const plaintext = bytes(size);
  const { ciphertext, ref } = await encryptFile(plaintext, { mime: 'image/png', name: 'a.png', chunkBytes });
  return { plaintext, ciphertext, ref: { ...ref, mediaId: 'm_1' } as EncryptedFileRef };
}

async function reasonOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { reason?: string }).reason;
  }
}

describe('encrypted attachments', () => {
  it('round-trips files of zero, one chunk, an exact multiple and a ragged tail', async () => {
    for (const size of [0, 1, 999, 1000, 3000, 3456]) {
      const { plaintext, ciphertext, ref } = await sealed(size);
      expect(await decryptFile(ciphertext, ref)).toEqual(plaintext);
    }
  });

  it('leaves nothing of the plaintext in the ciphertext and uses a fresh key per file', async () => {
    const a = await sealed(3000);
    const b = await sealed(3000);
    expect(a.ref.key).not.toBe(b.ref.key);
    expect(a.ciphertext).not.toEqual(b.ciphertext);
    const text = Buffer.from(a.ciphertext).toString('latin1');
    expect(text.includes(Buffer.from(a.plaintext.subarray(0, 32)).toString('latin1'))).toBe(false);
  });

  it('refuses a changed byte, a cut file and swapped chunks before giving any plaintext', async () => {
    const { ciphertext, ref } = await sealed(3000);
    const flipped = ciphertext.slice();
    flipped[1500] = flipped[1500]! ^ 1;
    expect(await reasonOf(decryptFile(flipped, ref))).toBe('hash-mismatch');
    expect(await reasonOf(decryptFile(ciphertext.subarray(0, 2032), ref))).toBe('size-mismatch');

    // Chunks swapped, with a hash that matches the swapped bytes: only the per-chunk binding catches it.
    const swapped = new Uint8Array(ciphertext.length);
    swapped.set(ciphertext.subarray(1016, 2032), 0);
    swapped.set(ciphertext.subarray(0, 1016), 1016);
    swapped.set(ciphertext.subarray(2032), 2032);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', swapped));
    expect(await reasonOf(decryptFile(swapped, { ...ref, sha256: toBase64(digest) }))).toBe('decrypt-failed');
  });

  it('refuses a file cut at a chunk boundary even when size and hash were rewritten to match', async () => {
    const { ciphertext, ref } = await sealed(3000);
    const cut = ciphertext.subarray(0, 2032);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', cut.slice()));
    const forged = { ...ref, size: 2000, sha256: toBase64(digest) };
    expect(await reasonOf(decryptFile(cut, forged))).toBe('decrypt-failed');
  });

  it('carries the sender-made thumbnail and metadata, and bounds the thumbnail', async () => {
    const thumbnail = { mime: 'image/webp', width: 32, height: 24, dataBase64: toBase64(bytes(500)) };
    const { ref } = await encryptFile(bytes(10), {
      mime: 'image/jpeg',
      name: 'cat.jpg',
      width: 640,
      height: 480,
      thumbnail,
    });
    expect(ref).toMatchObject({ mime: 'image/jpeg', name: 'cat.jpg', width: 640, height: 480, thumbnail });
    const big = { ...thumbnail, dataBase64: toBase64(bytes(MAX_THUMBNAIL_BYTES + 1)) };
    await expect(encryptFile(bytes(10), { mime: 'image/jpeg', name: 'x', thumbnail: big })).rejects.toThrow(
      RangeError,
    );
  });

  it('checks references that came from another device', async () => {
    const { ref } = await sealed(10);
    expect(isEncryptedFileRef(ref)).toBe(true);
    expect(isEncryptedFileRef({ ...ref, key: toBase64(bytes(16)) })).toBe(false);
    expect(isEncryptedFileRef({ ...ref, chunkBytes: 0 })).toBe(false);
    expect(isEncryptedFileRef({ ...ref, key: '%%%' })).toBe(false);
    expect(isEncryptedFileRef(null)).toBe(false);
    expect(await reasonOf(decryptFile(new Uint8Array(26), { ...ref, v: 2 } as never))).toBe('invalid-ref');
  });
});
