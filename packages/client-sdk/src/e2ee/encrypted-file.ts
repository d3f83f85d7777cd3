import { fromBase64, toBase64 } from '../base64.js';

/**
 * Encrypted attachments: a file is encrypted on the device with a fresh AES-256-GCM key, uploaded as opaque
 * bytes through the ordinary media upload (the server sniffs `application/octet-stream` and can make no
 * thumbnail), and the key travels inside the MLS-encrypted message. Large files are cut in chunks, each its
 * own GCM message, so neither side holds more than one chunk of plaintext and ciphertext extra at a time.
 */

/** Plaintext bytes per chunk. @default 65536 */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** The AES-GCM tag after each chunk. */
const TAG_BYTES = 16;
/** Largest inline thumbnail: it rides inside the encrypted message, whose size the server bounds. */
export const MAX_THUMBNAIL_BYTES = 8 * 1024;

/** A thumbnail the sender made (e.g. drawn on a canvas), carried inside the encrypted message. */
export interface EncryptedThumbnail {
  /** Image type of the thumbnail bytes, e.g. `image/webp`. */
  mime: string;
  width: number;
  height: number;
  /** The image, base64; at most {@link MAX_THUMBNAIL_BYTES} bytes before encoding. */
  dataBase64: string;
}

/** Everything a receiver needs to fetch and decrypt an attachment; only ever sent inside an encrypted message. */
export interface EncryptedFileRef {
  /** Format version. */
  v: 1;
  /** The upload holding the ciphertext. */
  mediaId: string;
  /** AES-256-GCM key, base64 (32 bytes). Fresh per file. */
  key: string;
  /** 12-byte base nonce, base64; chunk `i` uses it with `i` added to its last four bytes. */
  nonce: string;
  /** Plaintext bytes per chunk (the last chunk may be shorter). */
  chunkBytes: number;
  /** Plaintext size. */
  size: number;
  /** SHA-256 of the ciphertext, base64: checked before decrypting anything. */
  sha256: string;
  /** The file's type, as the sender knew it (the server saw octet-stream). */
  mime: string;
  /** The file's name. */
  name: string;
  /** Image or video dimensions, when the sender knew them. */
  width?: number;
  height?: number;
  thumbnail?: EncryptedThumbnail;
}

/** What the receiver learns about an attachment that cannot be used. */
export class EncryptedFileError extends Error {
  override readonly name = 'EncryptedFileError';
  constructor(
    readonly reason: 'hash-mismatch' | 'size-mismatch' | 'decrypt-failed' | 'invalid-ref',
    message: string,
  ) {
    super(message);
  }
}

function subtle(): typeof globalThis.crypto.subtle {
  const c = globalThis.crypto;
  if (!c?.subtle) throw new Error('encrypted attachments need WebCrypto (crypto.subtle)');
  return c.subtle;
}

function chunkNonce(base: Uint8Array, index: number): Uint8Array {
  const nonce = new Uint8Array(base);
  const view = new DataView(nonce.buffer, nonce.byteOffset, nonce.byteLength);
  view.setUint32(8, (view.getUint32(8) + index) >>> 0);
  return nonce;
}

/**
 * Chunk `i`'s associated data: its index and whether it is the last one, so chunks cannot be reordered,
 * dropped or the file cut short without a GCM failure.
 */
function chunkAad(index: number, last: boolean): Uint8Array {
  const aad = new Uint8Array(5);
  new DataView(aad.buffer).setUint32(0, index);
  aad[4] = last ? 1 : 0;
  return aad;
}

function chunkCount(size: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(size / chunkBytes));
}

const buffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/** Encrypts a file with a fresh key: the ciphertext to upload, and the reference (minus `mediaId`) to send. */
export async function encryptFile(
  plaintext: Uint8Array,
  meta: {
    mime: string;
    name: string;
    width?: number;
    height?: number;
    thumbnail?: EncryptedThumbnail;
    chunkBytes?: number;
  },
): Promise<{ ciphertext: Uint8Array; ref: Omit<EncryptedFileRef, 'mediaId'> }> {
  const chunkBytes = meta.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1)
    throw new RangeError('chunkBytes must be a positive integer');
  if (meta.thumbnail && fromBase64(meta.thumbnail.dataBase64).length > MAX_THUMBNAIL_BYTES)
    throw new RangeError(`a thumbnail may have at most ${MAX_THUMBNAIL_BYTES} bytes`);
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  const baseNonce = crypto.getRandomValues(new Uint8Array(12));
  const key = await subtle().importKey('raw', buffer(rawKey), 'AES-GCM', false, ['encrypt']);
  const count = chunkCount(plaintext.length, chunkBytes);
  const ciphertext = new Uint8Array(plaintext.length + count * TAG_BYTES);
  for (let i = 0; i < count; i++) {
    const chunk = plaintext.subarray(i * chunkBytes, Math.min(plaintext.length, (i + 1) * chunkBytes));
    const sealed = new Uint8Array(
      await subtle().encrypt(
        {
          name: 'AES-GCM',
          iv: buffer(chunkNonce(baseNonce, i)),
          additionalData: buffer(chunkAad(i, i === count - 1)),
        },
        key,
        buffer(chunk),
      ),
    );
    ciphertext.set(sealed, i * (chunkBytes + TAG_BYTES));
  }
  const digest = new Uint8Array(await subtle().digest('SHA-256', buffer(ciphertext)));
  const { chunkBytes: _c, ...described } = meta;
  return {
    ciphertext,
    ref: {
      v: 1,
      ...described,
      key: toBase64(rawKey),
      nonce: toBase64(baseNonce),
      chunkBytes,
      size: plaintext.length,
      sha256: toBase64(digest),
    },
  };
}

/** Checks and decrypts downloaded ciphertext with its reference; throws {@link EncryptedFileError}. */
export async function decryptFile(ciphertext: Uint8Array, ref: EncryptedFileRef): Promise<Uint8Array> {
  if (!isEncryptedFileRef(ref))
    throw new EncryptedFileError('invalid-ref', 'not an encrypted file reference');
  const count = chunkCount(ref.size, ref.chunkBytes);
  if (ciphertext.length !== ref.size + count * TAG_BYTES)
    throw new EncryptedFileError('size-mismatch', 'the download does not have the size the sender announced');
  const digest = toBase64(new Uint8Array(await subtle().digest('SHA-256', buffer(ciphertext))));
  if (digest !== ref.sha256)
    throw new EncryptedFileError('hash-mismatch', 'the download is not the file the sender uploaded');
  const key = await subtle().importKey('raw', buffer(fromBase64(ref.key)), 'AES-GCM', false, ['decrypt']);
  const baseNonce = fromBase64(ref.nonce);
  const plaintext = new Uint8Array(ref.size);
  const sealedBytes = ref.chunkBytes + TAG_BYTES;
  for (let i = 0; i < count; i++) {
    const sealed = ciphertext.subarray(i * sealedBytes, Math.min(ciphertext.length, (i + 1) * sealedBytes));
    try {
      const opened = await subtle().decrypt(
        {
          name: 'AES-GCM',
          iv: buffer(chunkNonce(baseNonce, i)),
          additionalData: buffer(chunkAad(i, i === count - 1)),
        },
        key,
        buffer(sealed),
      );
      plaintext.set(new Uint8Array(opened), i * ref.chunkBytes);
    } catch {
      throw new EncryptedFileError('decrypt-failed', `chunk ${i} of the file does not decrypt`);
    }
  }
  return plaintext;
}

/** Validates a reference taken out of a decrypted message (it came from another device). */
export function isEncryptedFileRef(value: unknown): value is EncryptedFileRef {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  const base64 = (x: unknown, bytes: number) => {
    if (typeof x !== 'string') return false;
    try {
      return fromBase64(x).length === bytes;
    } catch {
      return false;
    }
  };
  return (
    r.v === 1 &&
    typeof r.mediaId === 'string' &&
    base64(r.key, 32) &&
    base64(r.nonce, 12) &&
    base64(r.sha256, 32) &&
    Number.isSafeInteger(r.chunkBytes) &&
    (r.chunkBytes as number) >= 1 &&
    Number.isSafeInteger(r.size) &&
    (r.size as number) >= 0 &&
    typeof r.mime === 'string' &&
    typeof r.name === 'string'
  );
}
