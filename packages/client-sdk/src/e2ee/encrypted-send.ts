import type { MessageEntry, SyncEntry } from '@natter/protocol';
import type { OutboxSendItem } from '../store.js';
import type { EncryptedPayload } from './payload.js';

/** True for the log entries only the encryption part can read: MLS commits and ciphertexts. */
export function isEncryptedEntry(entry: SyncEntry): entry is MessageEntry {
  if (entry.kind !== 'message') return false;
  const action = entry.message.system?.action;
  return action === 'mls_message' || action === 'mls_commit';
}

/** The plaintext an encrypted outbox send carries inside its ciphertext. */
export function encryptedPayloadOf(item: OutboxSendItem): EncryptedPayload {
  const attachments = item.e2ee?.attachments ?? [];
  return {
    t: 'msg',
    text: item.text,
    ...(item.mentions.length > 0 ? { mentions: [...item.mentions] } : {}),
    ...(attachments.length > 0 ? { attachments: [...attachments] } : {}),
  };
}
