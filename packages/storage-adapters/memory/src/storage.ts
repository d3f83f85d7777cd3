import { newId } from '@natter/protocol';
import {
  ErrorCode,
  NatterError,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type StoreManifest,
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
  /** `closing`: new writes are refused while queued ones finish; reads still work. */
  let status: 'closed' | 'open' | 'closing' = 'closed';
  /** Settles after the last queued write; writes chain onto it to run one at a time. */
  let tail: Promise<unknown> = Promise.resolve();

  const assertOpen = (): void => {
    if (status === 'closed') throw new NatterError(ErrorCode.UNAVAILABLE, 'memory storage is not open');
  };

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
    if (status !== 'open') {
      return Promise.reject(new NatterError(ErrorCode.UNAVAILABLE, 'memory storage is not open'));
    }
    const result = tail.then(() => runWrite(fn));
    tail = result.catch(() => undefined);
    return result;
  };

  const manifest: StoreManifest = {
    name: 'memory',
    contractVersion: STORAGE_CONTRACT_VERSION,
    schemaVersion: MEMORY_SCHEMA_VERSION,
    capabilities: { search: true, multiProcess: false, persistent: false },
  };

  return {
    manifest,
    accounts: new MemoryAccountStore(state, assertOpen),
    chat: new MemoryChatStore({ state, epoch: () => epoch, write, assertOpen }),
    async open() {
      if (status === 'closing') await tail;
      status = 'open';
    },
    async close() {
      if (status === 'closed') return;
      status = 'closing';
      await tail;
      if (status === 'closing') status = 'closed';
    },
  };
}
