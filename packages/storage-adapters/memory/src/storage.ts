import { newId } from '@natter/protocol';
import {
  defineStorage,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type WriteTransaction,
} from '@natter/server-core';
import { MemoryAccountStore } from './accounts.js';
import { MemoryChatStore } from './chat.js';
import { Staging } from './staging.js';
import { MemoryState } from './state.js';
import { MemoryWriteTransaction } from './write-transaction.js';

/** Layout version of the memory adapter's data; it has no on-disk layout, so it never changes. */
const MEMORY_SCHEMA_VERSION = 1;

/**
 * Creates an in-memory {@link StorageAdapter} for tests and prototypes. Data lives as long as the
 * adapter object: closing and reopening the same object keeps it, a new adapter starts empty.
 *
 * Writes run one at a time in call order. Each write stages its changes and applies them in one
 * synchronous step when its function returns, so a throwing write leaves nothing behind and reads
 * outside `write()` never see uncommitted changes.
 *
 * @example
 * ```ts
 * const storage = createMemoryStorage();
 * await storage.open();
 * ```
 */
export function createMemoryStorage(): StorageAdapter {
  const state = new MemoryState();
  const epoch = newId();
  /** Settles after the last queued write; writes chain onto it to run one at a time. */
  let tail: Promise<unknown> = Promise.resolve();

  const runWrite = async <T>(fn: (tx: WriteTransaction) => Promise<T>): Promise<T> => {
    const staging = new Staging(state);
    const tx = new MemoryWriteTransaction(staging);
    try {
      const value = await fn(tx);
      staging.commit();
      return value;
    } finally {
      tx.end();
    }
  };

  const write = <T>(fn: (tx: WriteTransaction) => Promise<T>): Promise<T> => {
    const result = tail.then(() => runWrite(fn));
    tail = result.catch(() => undefined);
    return result;
  };

  const accounts = new MemoryAccountStore(state);
  const chat = new MemoryChatStore({ state, epoch: () => epoch, write });
  return defineStorage({
    manifest: {
      name: 'memory',
      contractVersion: STORAGE_CONTRACT_VERSION,
      schemaVersion: MEMORY_SCHEMA_VERSION,
      capabilities: {
        search: true,
        multiProcess: false,
        persistent: false,
        lifecycle: true,
        moderation: true,
      },
    },
    // The state belongs to the adapter object, not to one open period: reopening keeps it.
    open: async () => ({ accounts, chat, close: async () => void (await tail) }),
  });
}
