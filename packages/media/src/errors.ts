import { ErrorCode, NatterError } from '@natter/protocol';

/** The upload passed `limit` bytes (or declared that it would). */
export function tooLarge(limit: number): NatterError {
  return new NatterError(ErrorCode.MEDIA_TOO_LARGE, `upload is larger than the limit of ${limit} bytes`);
}

/** The sniffed type is not on the allowlist. */
export function typeNotAllowed(mime: string): NatterError {
  return new NatterError(ErrorCode.MEDIA_TYPE_NOT_ALLOWED, `uploads of type ${mime} are not allowed`);
}

/** The bytes do not decode as the type they claim to be. */
export function invalidMedia(reason: string): NatterError {
  return new NatterError(ErrorCode.MEDIA_INVALID, `invalid media: ${reason}`);
}
