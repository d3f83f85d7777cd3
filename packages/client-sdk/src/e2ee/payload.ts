import { type EncryptedFileRef, isEncryptedFileRef } from './encrypted-file.js';

/**
 * What travels inside an MLS application message: a message, or a change of one (edits, deletes and
 * reactions are encrypted too, so the server sees only that an entry exists). Changes name their target by
 * the `clientMsgId` of its send, which the server also has in the clear, so every device resolves it alike.
 */
export type EncryptedPayload =
  | {
      t: 'msg';
      text: string;
      mentions?: string[];
      attachments?: EncryptedFileRef[];
    }
  | { t: 'edit'; target: string; text: string }
  | { t: 'delete'; target: string }
  | { t: 'react'; target: string; emoji: string; add: boolean };

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodePayload(payload: EncryptedPayload): Uint8Array {
  return utf8.encode(JSON.stringify(payload));
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isStrings = (x: unknown) => x === undefined || (Array.isArray(x) && x.every(isString));

/** Decodes and validates a payload another device sent; undefined when it is not one (a typed failure upstream). */
export function decodePayload(bytes: Uint8Array): EncryptedPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const p = value as Record<string, unknown>;
  switch (p.t) {
    case 'msg':
      return isString(p.text) &&
        isStrings(p.mentions) &&
        (p.attachments === undefined ||
          (Array.isArray(p.attachments) && p.attachments.every(isEncryptedFileRef)))
        ? (p as EncryptedPayload)
        : undefined;
    case 'edit':
      return isString(p.target) && isString(p.text) ? (p as EncryptedPayload) : undefined;
    case 'delete':
      return isString(p.target) ? (p as EncryptedPayload) : undefined;
    case 'react':
      return isString(p.target) && isString(p.emoji) && typeof p.add === 'boolean'
        ? (p as EncryptedPayload)
        : undefined;
    default:
      return undefined;
  }
}
