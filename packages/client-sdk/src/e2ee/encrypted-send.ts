import { type Message, type MessageEntry, newId, type SyncEntry } from '@natter/protocol';
import type { SendOptions } from '../client-types.js';
import type { SendHandle } from '../outbox-api.js';
import type { EncryptedChannels } from './encrypted-channels.js';
import type { EncryptedFileRef } from './encrypted-file.js';

/** True for the log entries only the encryption part can read: MLS commits and ciphertexts. */
export function isEncryptedEntry(entry: SyncEntry): entry is MessageEntry {
  if (entry.kind !== 'message') return false;
  const action = entry.message.system?.action;
  return action === 'mls_message' || action === 'mls_commit';
}

/**
 * `send()` on an encrypted channel: the text (and encrypted attachment references) is encrypted for the
 * channel's current epoch and sent; the handle looks like a plaintext send's.
 */
export function pendingEncryptedSend(
  channels: Promise<EncryptedChannels>,
  channelId: string,
  text: string,
  options: SendOptions & { encryptedAttachments?: readonly EncryptedFileRef[] },
  now: number,
): SendHandle {
  const clientMsgId = newId(now);
  const mentions = [...(options.mentions ?? [])];
  const acked: Promise<Message> = channels.then((e2ee) =>
    e2ee.send(
      channelId,
      {
        t: 'msg',
        text,
        ...(mentions.length > 0 ? { mentions } : {}),
        ...(options.encryptedAttachments?.length ? { attachments: [...options.encryptedAttachments] } : {}),
      },
      clientMsgId,
    ),
  );
  acked.catch(() => undefined);
  return {
    message: { clientMsgId, channelId, text, mentions, createdAt: now, status: 'pending', attempts: 0 },
    acked,
  };
}
