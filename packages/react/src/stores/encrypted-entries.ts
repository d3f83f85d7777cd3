import type { ChatClient, DecryptionFailedEvent, Message, ReadEncryptedMessage } from '@natter/client';

/** Entries of encrypted channels remembered, oldest forgotten first (a bound on memory per client). */
const REMEMBERED = 2_000;

/** What a row shows in place of an entry this device could not read. */
export function decryptionFailedText(reason: DecryptionFailedEvent['reason']): string {
  return reason === 'NATTER_E2EE_UNKNOWN_GROUP'
    ? 'Unable to decrypt this message (sent before this device joined)'
    : 'Unable to decrypt this message';
}

/** What this device made of one encrypted entry. */
type ReadEntry =
  | { kind: 'decrypted'; message: Message }
  | { kind: 'failed'; reason: DecryptionFailedEvent['reason'] };

/**
 * What this device read of encrypted channels, by channel and `seq`: the decrypted messages and the
 * entries it could not read. The server's history holds only ciphertext (`mls_message` entries) and MLS
 * cannot decrypt an entry twice, so a page from the server is shown through this memory: a decrypted entry
 * as its message, an unreadable one as a placeholder, never dropped. Listens from creation, because a
 * message is decrypted once, when it arrives, whether or not its conversation is open.
 */
export class EncryptedEntries {
  private readonly read = new Map<string, ReadEntry>();
  private readonly failureListeners = new Set<(event: DecryptionFailedEvent) => void>();
  private readonly offs: Array<() => void>;

  constructor(client: ChatClient) {
    this.offs = [
      client.on('message', ({ message, encrypted }) => {
        if (encrypted) this.remember(message.channelId, message.seq, { kind: 'decrypted', message });
      }),
      client.on('decryptionFailed', (event) => {
        this.remember(event.channelId, event.seq, { kind: 'failed', reason: event.reason });
        for (const listener of [...this.failureListeners]) listener(event);
      }),
    ];
  }

  /**
   * The message to show for a message of a page: the decrypted one, a placeholder, or itself. Pages from the
   * SDK already carry what this device read (`message.e2ee`, kept across restarts); the session memory
   * covers entries read after the page was fetched.
   */
  resolve(message: ReadEncryptedMessage): Message {
    if (message.system?.action !== 'mls_message') return message;
    if (message.e2ee?.state === 'undecryptable' && !this.read.has(keyOf(message.channelId, message.seq)))
      return { ...message, text: decryptionFailedText(message.e2ee.reason) };
    const known = this.read.get(keyOf(message.channelId, message.seq));
    if (!known) return message;
    return known.kind === 'decrypted'
      ? known.message
      : { ...message, text: decryptionFailedText(known.reason) };
  }

  /** Calls `listener` for each entry this device fails to read from now on; returns its removal. */
  onFailure(listener: (event: DecryptionFailedEvent) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Stops listening to the client. */
  close(): void {
    for (const off of this.offs.splice(0)) off();
  }

  private remember(channelId: string, seq: number, entry: ReadEntry): void {
    const key = keyOf(channelId, seq);
    this.read.delete(key);
    this.read.set(key, entry);
    if (this.read.size > REMEMBERED) {
      const oldest = this.read.keys().next().value;
      if (oldest !== undefined) this.read.delete(oldest);
    }
  }
}

function keyOf(channelId: string, seq: number): string {
  return `${channelId}\u0000${seq}`;
}
