import type { MediaBody } from '@natter/protocol';
import {
  decryptFile,
  type EncryptedFileRef,
  type EncryptedThumbnail,
  encryptFile,
} from './encrypted-file.js';

/** A file to send in an encrypted channel, with what the receiver should know about it. */
export interface EncryptedFileInput {
  data: Uint8Array;
  /** The file's real type (the server only ever sees `application/octet-stream`). */
  mime: string;
  name: string;
  width?: number;
  height?: number;
  /** A small preview the sending app made (the server cannot make one of ciphertext). */
  thumbnail?: EncryptedThumbnail;
}

/**
 * Encrypts each file with its own fresh key and uploads the ciphertext through the ordinary media upload;
 * answers the references to send inside the encrypted message (they hold the keys).
 */
export async function uploadEncryptedFiles(
  files: readonly EncryptedFileInput[],
  upload: (ciphertext: Uint8Array) => Promise<MediaBody>,
): Promise<EncryptedFileRef[]> {
  const refs: EncryptedFileRef[] = [];
  for (const { data, ...meta } of files) {
    const { ciphertext, ref } = await encryptFile(data, meta);
    const media = await upload(ciphertext);
    refs.push({ ...ref, mediaId: media.id });
  }
  return refs;
}

/** Downloads an encrypted attachment by its signed URL and decrypts it (throws `EncryptedFileError`). */
export async function downloadEncryptedFile(
  ref: EncryptedFileRef,
  download: (mediaId: string) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  return decryptFile(await download(ref.mediaId), ref);
}
