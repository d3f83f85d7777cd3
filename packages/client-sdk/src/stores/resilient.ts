import type { Message } from '@natter/protocol';
import { toError } from '../errors.js';
import type {
  CachedChannel,
  CachedMessagesQuery,
  ClientStore,
  OutboxItem,
  SyncCommit,
  SyncCursor,
} from '../store.js';
import { MemoryStore } from './memory.js';

/** What the store did about a failure. */
export type StorageAction =
  /** The cache was cleared to make room and the write then succeeded. */
  | 'evicted'
  /** Caching is off for the rest of the session; cursor and outbox are still persisted. */
  | 'cache-disabled'
  /** Persistent storage is unusable: cursor, outbox and cache live in memory for the rest of the session. */
  | 'memory-fallback'
  /** A read failed; it was answered from memory or as empty. */
  | 'read-failed';

/** Payload of the client's `storage-error` event. */
export interface StorageErrorEvent {
  /** The store method that failed. */
  operation: string;
  error: Error;
  /** True for quota errors (`QuotaExceededError`, disk full). */
  quota: boolean;
  action: StorageAction;
}

/** True for the errors runtimes raise when storage is full. */
export function isQuotaError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name, code, message } = err as { name?: unknown; code?: unknown; message?: unknown };
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED') return true;
  if (code === 22 || code === 1014 || code === 'ENOSPC') return true;
  return typeof message === 'string' && /quota|ENOSPC|no space left/i.test(message);
}

const EMPTY_CACHE = { messages: [], channels: [], removedChannelIds: [] } as const;

/**
 * Wraps the app's store so storage failures never break sending or receiving. On a failed cache write it
 * evicts the cache and retries, then stops caching; when even the cursor or the outbox cannot be written it
 * moves them to memory. Every step is reported once through `onError`.
 */
export class ResilientStore implements ClientStore {
  private mode: 'full' | 'no-cache' | 'memory' = 'full';
  private readonly memory = new MemoryStore();
  private opening: Promise<void> | undefined;

  constructor(
    private readonly primary: ClientStore,
    private readonly onError: (event: StorageErrorEvent) => void,
  ) {}

  /** `full`, `no-cache` (cache writes skipped) or `memory` (nothing persisted any more). */
  get degradation(): 'full' | 'no-cache' | 'memory' {
    return this.mode;
  }

  /** Opens the primary store once; every other method waits for it, so early writes never hit a closed store. */
  open(): Promise<void> {
    this.opening ??= this.primary
      .open()
      .catch((err: unknown) => this.degrade('open', err, 'memory-fallback'));
    return this.opening;
  }

  async close(): Promise<void> {
    try {
      await this.primary.close();
    } catch {
      // Closing is best effort.
    }
  }

  async getMeta(key: string): Promise<string | undefined> {
    await this.open();
    const local = await this.memory.getMeta(key);
    return local ?? this.read('getMeta', () => this.primary.getMeta(key), undefined);
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.open();
    return this.essential('setMeta', (store) => store.setMeta(key, value));
  }

  /*
   * Engine state is never degraded to memory or answered from a fallback: keys that silently did not persist
   * would decrypt until the next restart and then leave the device out of its groups. A failure reaches the
   * caller, which then does not act on the engine's result.
   */
  async getE2eeState(owner: string): Promise<Uint8Array | undefined> {
    await this.open();
    return this.primary.getE2eeState(owner);
  }

  async putE2eeState(owner: string, state: Uint8Array): Promise<void> {
    await this.open();
    return this.primary.putE2eeState(owner, state);
  }

  async deleteE2eeState(owner: string): Promise<void> {
    await this.open();
    return this.primary.deleteE2eeState(owner);
  }

  async getCursor(): Promise<SyncCursor | undefined> {
    await this.open();
    if (this.mode === 'memory') {
      return (
        (await this.memory.getCursor()) ?? this.read('getCursor', () => this.primary.getCursor(), undefined)
      );
    }
    return this.read('getCursor', () => this.primary.getCursor(), undefined);
  }

  async commitSync(commit: SyncCommit): Promise<void> {
    await this.open();
    if (this.mode === 'memory') return this.memory.commitSync(commit);
    const cacheable = this.mode === 'full' && hasCacheData(commit);
    try {
      await this.primary.commitSync(this.mode === 'full' ? commit : { ...commit, ...EMPTY_CACHE });
      return;
    } catch (err) {
      if (cacheable && (await this.evictAndRetry('commitSync', err, () => this.primary.commitSync(commit))))
        return;
      try {
        await this.primary.commitSync({ ...commit, ...EMPTY_CACHE });
        if (this.mode === 'full') this.degrade('commitSync', err, 'cache-disabled');
        return;
      } catch (again) {
        this.degrade('commitSync', again, 'memory-fallback');
      }
    }
    await this.memory.commitSync(commit);
  }

  async resetSync(): Promise<void> {
    await this.open();
    await this.memory.resetSync();
    if (this.mode !== 'memory') await this.essential('resetSync', (store) => store.resetSync());
  }

  async putMessages(messages: readonly Message[]): Promise<void> {
    await this.open();
    await this.cacheWrite('putMessages', (store) => store.putMessages(messages));
  }

  async getMessages(channelId: string, query?: CachedMessagesQuery): Promise<Message[]> {
    await this.open();
    if (this.mode === 'memory') return this.memory.getMessages(channelId, query);
    return this.read('getMessages', () => this.primary.getMessages(channelId, query), []);
  }

  async replaceChannels(channels: readonly CachedChannel[]): Promise<void> {
    await this.open();
    await this.cacheWrite('replaceChannels', (store) => store.replaceChannels(channels));
  }

  async putChannels(channels: readonly CachedChannel[]): Promise<void> {
    await this.open();
    await this.cacheWrite('putChannels', (store) => store.putChannels(channels));
  }

  async getChannels(): Promise<CachedChannel[]> {
    await this.open();
    if (this.mode === 'memory') return this.memory.getChannels();
    return this.read('getChannels', () => this.primary.getChannels(), []);
  }

  async clearCache(): Promise<void> {
    await this.open();
    await this.memory.clearCache();
    try {
      await this.primary.clearCache();
    } catch {
      // Nothing more to give back.
    }
  }

  async listOutbox(): Promise<OutboxItem[]> {
    await this.open();
    const local = await this.memory.listOutbox();
    const stored = await this.read('listOutbox', () => this.primary.listOutbox(), []);
    const ids = new Set(local.map((i) => i.clientMsgId));
    return [...local, ...stored.filter((i) => !ids.has(i.clientMsgId))].sort((a, b) => a.order - b.order);
  }

  async putOutbox(item: OutboxItem): Promise<void> {
    await this.open();
    if (this.mode !== 'memory' && !(await this.isLocal(item.clientMsgId))) {
      await this.essential('putOutbox', (store) => store.putOutbox(item));
    } else {
      await this.memory.putOutbox(item);
    }
  }

  async deleteOutbox(clientMsgId: string): Promise<void> {
    await this.open();
    await this.memory.deleteOutbox(clientMsgId);
    try {
      await this.primary.deleteOutbox(clientMsgId);
    } catch (err) {
      // The server deduplicates by clientMsgId, so an undeletable item costs at most a duplicate-acked resend.
      this.report('deleteOutbox', err, 'read-failed');
    }
  }

  async leaseOutbox(
    clientMsgId: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<OutboxItem | undefined> {
    await this.open();
    if (await this.isLocal(clientMsgId)) return this.memory.leaseOutbox(clientMsgId, owner, ttlMs, now);
    try {
      return await this.primary.leaseOutbox(clientMsgId, owner, ttlMs, now);
    } catch (err) {
      // Without a writable lease the item is still sent: the server's clientMsgId check prevents a duplicate.
      this.report('leaseOutbox', err, 'read-failed');
      const items = await this.read('listOutbox', () => this.primary.listOutbox(), []);
      return items.find((i) => i.clientMsgId === clientMsgId && i.status === 'pending');
    }
  }

  async releaseLease(clientMsgId: string, owner: string): Promise<void> {
    await this.open();
    await this.memory.releaseLease(clientMsgId, owner);
    try {
      await this.primary.releaseLease(clientMsgId, owner);
    } catch {
      // The lease expires on its own.
    }
  }

  private async isLocal(clientMsgId: string): Promise<boolean> {
    return (await this.memory.listOutbox()).some((i) => i.clientMsgId === clientMsgId);
  }

  /** A write that must persist somewhere: primary, else primary after eviction, else memory. */
  private async essential(operation: string, write: (store: ClientStore) => Promise<void>): Promise<void> {
    if (this.mode === 'memory') return write(this.memory);
    try {
      await write(this.primary);
      return;
    } catch (err) {
      if (await this.evictAndRetry(operation, err, () => write(this.primary))) return;
      this.degrade(operation, err, 'memory-fallback');
    }
    await write(this.memory);
  }

  /** A cache write: evict and retry once, then stop caching. */
  private async cacheWrite(operation: string, write: (store: ClientStore) => Promise<void>): Promise<void> {
    if (this.mode === 'memory') return write(this.memory);
    if (this.mode === 'no-cache') return;
    try {
      await write(this.primary);
    } catch (err) {
      if (await this.evictAndRetry(operation, err, () => write(this.primary))) return;
      this.degrade(operation, err, 'cache-disabled');
    }
  }

  private async evictAndRetry(operation: string, err: unknown, retry: () => Promise<void>): Promise<boolean> {
    if (!isQuotaError(err)) return false;
    try {
      await this.primary.clearCache();
      await retry();
      this.report(operation, err, 'evicted');
      return true;
    } catch {
      return false;
    }
  }

  private async read<T>(operation: string, read: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await read();
    } catch (err) {
      this.report(operation, err, 'read-failed');
      return fallback;
    }
  }

  private degrade(operation: string, err: unknown, action: 'cache-disabled' | 'memory-fallback'): void {
    const next = action === 'memory-fallback' ? 'memory' : 'no-cache';
    if (this.mode === next || this.mode === 'memory') return;
    this.mode = next;
    this.report(operation, err, action);
  }

  private report(operation: string, err: unknown, action: StorageAction): void {
    try {
      this.onError({ operation, error: toError(err), quota: isQuotaError(err), action });
    } catch {
      // A failing listener must not turn a storage problem into a crash.
    }
  }
}

function hasCacheData(commit: SyncCommit): boolean {
  return commit.messages.length > 0 || commit.channels.length > 0 || commit.removedChannelIds.length > 0;
}
