import { createHash } from 'node:crypto';
import { ErrorCode, type MlsHeader, NatterError, readMlsHeader } from '@natter/protocol';

const badRequest = (message: string) => new NatterError(ErrorCode.BAD_REQUEST, message);

/** The cleartext MLS header of a base64 object; bad input is a typed BAD_REQUEST, never a crash. */
export function headerOf(base64: string, what: string): MlsHeader {
  try {
    return readMlsHeader(Buffer.from(base64, 'base64'));
  } catch {
    throw badRequest(`${what} is not an MLS message`);
  }
}

/** The group (channel) id an MLS header names. */
export function groupIdOf(header: { groupId: Uint8Array }): string {
  return Buffer.from(header.groupId).toString('utf8');
}

/** A framed MLS message of `channelId` with the content type the route expects, else a typed error. */
export function requireFramed(
  base64: string,
  channelId: string,
  contentType: 'commit' | 'application',
): { epoch: number; wireFormat: 'public_message' | 'private_message' } {
  const header = headerOf(base64, contentType === 'commit' ? 'commit' : 'ciphertext');
  if (header.wireFormat !== 'public_message' && header.wireFormat !== 'private_message')
    throw badRequest(`not a framed MLS message (${header.wireFormat})`);
  if (header.contentType !== contentType) throw badRequest(`not an MLS ${contentType}`);
  if (groupIdOf(header) !== channelId)
    throw new NatterError(ErrorCode.E2EE_WRONG_GROUP, 'the MLS message names another group');
  if (contentType === 'application' && header.wireFormat !== 'private_message')
    throw badRequest('application messages must be encrypted (private_message)');
  return { epoch: header.epoch, wireFormat: header.wireFormat };
}

/** SHA-256 of a base64 object, for recognising an identical retry. */
export function hashOf(base64: string): string {
  return createHash('sha256').update(base64).digest('base64');
}
