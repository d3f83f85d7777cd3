import type { DeviceRef, E2eeErrorCode } from '@natter/e2ee';
import { ErrorCode, type Message } from '@natter/protocol';
import type { ClientStore } from '../store.js';
import type { EncryptedMessageInfo } from './encrypted-channels.js';

/**
 * What this device made of one encrypted log entry, carried as `message.e2ee` by every message the SDK
 * returns for an `mls_message` entry (cache reads, `history()`, thread pages): a decrypted message, the
 * carrier of an edit, delete or reaction (applied to its target), or an entry this device cannot read.
 */
export type EncryptedReadState =
  | { state: 'decrypted'; sender: DeviceRef }
  | { state: 'change'; change: 'edit' | 'delete' | 'react' }
  | { state: 'undecryptable'; reason: E2eeErrorCode };

/** A message of an encrypted channel as the SDK returns it: with what this device made of it. */
export type ReadEncryptedMessage = Message & { e2ee?: EncryptedReadState };

/** What is kept of one read entry: the message as shown, and the decrypted payload while it exists. */
interface ReadRecord {
  message: ReadEncryptedMessage;
  /** Absent for changes, failures and deleted messages (a delete erases the plaintext). */
  info?: EncryptedMessageInfo;
}

/** Why an entry nobody recorded is unreadable: a device reads every later entry through sync. */
const NEVER_READ: E2eeErrorCode = ErrorCode.E2EE_UNKNOWN_GROUP;

/** The store key of one entry's record. */
export function readEntryKey(channelId: string, seq: number): string {
  return `e2ee.read/${channelId}/${seq}`;
}

/**
 * The decrypted form of each encrypted entry this device read, kept in the client store (with the engine's
 * keys: it is plaintext) by channel and `seq`. MLS decrypts a ciphertext once (forward secrecy), so this is
 * the only way the same text shows after a restart: every read path substitutes it for the server's
 * ciphertext entry.
 */
export class ReadEntries {
  constructor(private readonly store: ClientStore) {}

  /** Keeps what this device made of an entry (a later record of the same entry replaces it). */
  async remember(record: ReadRecord): Promise<void> {
    const { channelId, seq } = record.message;
    await this.store.setMeta(readEntryKey(channelId, seq), JSON.stringify(record));
  }

  /** The record of an entry, if this device read it. */
  async recall(channelId: string, seq: number): Promise<ReadRecord | undefined> {
    const raw = await this.store.getMeta(readEntryKey(channelId, seq));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as ReadRecord;
    } catch {
      return undefined;
    }
  }

  /**
   * Applies an edit, delete or reaction to the record of its target: an edit replaces the text, a delete
   * keeps only the tombstone (the plaintext and its attachment keys are gone from the store).
   */
  async update(message: Message): Promise<void> {
    const known = await this.recall(message.channelId, message.seq);
    if (!known) return;
    const shown: ReadEncryptedMessage = { ...message, e2ee: known.message.e2ee ?? decryptedBy(known) };
    if (message.deletedAt !== undefined) await this.remember({ message: shown });
    else await this.remember(known.info ? { message: shown, info: known.info } : { message: shown });
  }

  /** The messages of a page with each `mls_message` entry replaced by what this device made of it. */
  async substitute(messages: readonly Message[]): Promise<ReadEncryptedMessage[]> {
    return Promise.all(
      messages.map(async (message) => {
        if (message.system?.action !== 'mls_message') return message;
        const known = await this.recall(message.channelId, message.seq);
        if (known) return known.message;
        return undecryptable(message, NEVER_READ);
      }),
    );
  }
}

/** The form of an entry this device cannot read: the entry without its ciphertext, and the reason. */
export function undecryptable(message: Message, reason: E2eeErrorCode): ReadEncryptedMessage {
  const system =
    message.system?.action === 'mls_message' ? { ...message.system, ciphertext: '' } : message.system;
  return { ...message, text: '', system, e2ee: { state: 'undecryptable', reason } };
}

function decryptedBy(record: ReadRecord): EncryptedReadState | undefined {
  return record.info ? { state: 'decrypted', sender: record.info.sender } : undefined;
}
