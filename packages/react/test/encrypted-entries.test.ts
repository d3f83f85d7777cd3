import { ChatClient, type ReadEncryptedMessage } from '@natter/client';
import { describe, expect, it } from 'vitest';
import { EncryptedEntries } from '../src/stores/encrypted-entries.js';

const entry: ReadEncryptedMessage = {
  id: 'm'.padEnd(26, '0'),
  channelId: 'd_1',
  seq: 7,
  senderId: 'u'.padEnd(26, '0'),
  clientMsgId: null,
  kind: 'system',
  text: '',
  mentions: [],
  system: { action: 'mls_message', actorId: 'u'.padEnd(26, '0'), deviceId: 'dev_1', ciphertext: '' },
  createdAt: 1,
};

describe('the kit shows what the SDK read of encrypted entries', () => {
  it('shows an entry the SDK marks undecryptable with its reason, after a reload too', () => {
    // A client that never connects: the memory starts empty, as after a reload.
    const entries = new EncryptedEntries(new ChatClient({ url: 'http://127.0.0.1:9' }));
    const unread = {
      ...entry,
      e2ee: { state: 'undecryptable', reason: 'NATTER_E2EE_UNKNOWN_GROUP' },
    } as const;
    expect(entries.resolve(unread).text).toBe(
      'Unable to decrypt this message (sent before this device joined)',
    );
    expect(entries.resolve(entry).text).toBe('');
    entries.close();
  });
});
