import type { Message } from '@natter/protocol';
import { fromBase64, toBase64 } from '../base64.js';
import {
  type CachedChannel,
  type CachedMessagesQuery,
  type CacheLimits,
  type ClientStore,
  DEFAULT_CACHE_LIMITS,
  type OutboxItem,
  type SyncCommit,
  type SyncCursor,
} from '../store.js';
import { type KvTransaction, type OrderedKv, prefixRange } from './kv.js';

/** Per-channel bookkeeping of the message cache. */
interface ChannelIndex {
  /** Messages cached for the channel. */
  count: number;
  /** Newest `createdAt` seen: the least recently active channel is evicted first. */
  lastActivity: number;
}

// Ids never contain '!', so '!' separates key parts and a prefix never matches a longer id.
const KEY = {
  cursor: 'cursor',
  meta: (name: string) => `meta!${name}`,
  channel: (id: string) => `ch!${id}`,
  channels: 'ch!',
  index: (id: string) => `mi!${id}`,
  indexes: 'mi!',
  message: (channelId: string, seq: number) => `m!${channelId}!${String(seq).padStart(16, '0')}`,
  messagesOf: (channelId: string) => `m!${channelId}!`,
  messages: 'm!',
  outbox: (id: string) => `o!${id}`,
  outboxes: 'o!',
  e2ee: (owner: string) => `e2!${owner}`,
} as const;

/**
 * {@link ClientStore} over any {@link OrderedKv}: the cache bounds, eviction and lease rules live here once,
 * so the memory, IndexedDB and LevelDB stores differ only in their small key-value backends.
 */
export class KvClientStore implements ClientStore {
  /** The bounds this store keeps its message cache within. */
  readonly limits: CacheLimits;

  constructor(
    private readonly kv: OrderedKv,
    limits: Partial<CacheLimits> = {},
  ) {
    this.limits = { ...DEFAULT_CACHE_LIMITS, ...limits };
    if (!(this.limits.maxMessagesPerChannel >= 1) || !(this.limits.maxCachedChannels >= 1)) {
      throw new RangeError('cache limits must be at least 1');
    }
  }

  open(): Promise<void> {
    return this.kv.open();
  }

  close(): Promise<void> {
    return this.kv.close();
  }

  async getMeta(key: string): Promise<string | undefined> {
    const value = await this.kv.transaction('readonly', (tx) => tx.get(KEY.meta(key)));
    return typeof value === 'string' ? value : undefined;
  }

  setMeta(key: string, value: string): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => tx.put(KEY.meta(key), value));
  }

  async getE2eeState(owner: string): Promise<Uint8Array | undefined> {
    const value = await this.kv.transaction('readonly', (tx) => tx.get(KEY.e2ee(owner)));
    // Base64, because every backend keeps strings (LevelDB's values are JSON; memory copies through JSON).
    return typeof value === 'string' ? fromBase64(value) : undefined;
  }

  putE2eeState(owner: string, state: Uint8Array): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => tx.put(KEY.e2ee(owner), toBase64(state)));
  }

  deleteE2eeState(owner: string): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => tx.del(KEY.e2ee(owner)));
  }

  async getCursor(): Promise<SyncCursor | undefined> {
    const value = (await this.kv.transaction('readonly', (tx) => tx.get(KEY.cursor))) as
      | SyncCursor
      | undefined;
    return value ? { epoch: value.epoch ?? undefined, pos: value.pos } : undefined;
  }

  commitSync(commit: SyncCommit): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => {
      await this.writeMessages(tx, commit.messages);
      for (const channel of commit.channels) tx.put(KEY.channel(channel.id), channel);
      for (const id of commit.removedChannelIds) tx.del(KEY.channel(id));
      tx.put(KEY.cursor, { epoch: commit.cursor.epoch ?? null, pos: commit.cursor.pos });
    });
  }

  resetSync(): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => {
      tx.del(KEY.cursor);
      clearCacheIn(tx);
    });
  }

  putMessages(messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return this.kv.transaction('readwrite', (tx) => this.writeMessages(tx, messages));
  }

  async getMessages(channelId: string, query: CachedMessagesQuery = {}): Promise<Message[]> {
    const limit = Math.max(1, query.limit ?? 50);
    const all = prefixRange(KEY.messagesOf(channelId));
    const lt = query.beforeSeq !== undefined ? KEY.message(channelId, query.beforeSeq) : all.lt;
    return this.kv.transaction('readonly', async (tx) => {
      if (query.afterSeq !== undefined) {
        const rows = await tx.range({ gte: KEY.message(channelId, query.afterSeq + 1), lt, limit });
        return rows.map((r) => r.value as Message);
      }
      const rows = await tx.range({ gte: all.gte, lt, reverse: true, limit });
      return rows.map((r) => r.value as Message).reverse();
    });
  }

  replaceChannels(channels: readonly CachedChannel[]): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => {
      tx.delRange(prefixRange(KEY.channels));
      for (const channel of channels) tx.put(KEY.channel(channel.id), channel);
    });
  }

  putChannels(channels: readonly CachedChannel[]): Promise<void> {
    if (channels.length === 0) return Promise.resolve();
    return this.kv.transaction('readwrite', async (tx) => {
      for (const channel of channels) tx.put(KEY.channel(channel.id), channel);
    });
  }

  async getChannels(): Promise<CachedChannel[]> {
    const rows = await this.kv.transaction('readonly', (tx) => tx.range(prefixRange(KEY.channels)));
    return rows.map((r) => r.value as CachedChannel);
  }

  clearCache(): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => clearCacheIn(tx));
  }

  async listOutbox(): Promise<OutboxItem[]> {
    const rows = await this.kv.transaction('readonly', (tx) => tx.range(prefixRange(KEY.outboxes)));
    return rows.map((r) => r.value as OutboxItem).sort((a, b) => a.order - b.order);
  }

  putOutbox(item: OutboxItem): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => tx.put(KEY.outbox(item.clientMsgId), item));
  }

  deleteOutbox(clientMsgId: string): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => tx.del(KEY.outbox(clientMsgId)));
  }

  leaseOutbox(
    clientMsgId: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<OutboxItem | undefined> {
    return this.kv.transaction('readwrite', async (tx) => {
      const item = (await tx.get(KEY.outbox(clientMsgId))) as OutboxItem | undefined;
      if (item?.status !== 'pending') return undefined;
      if (item.lease && item.lease.owner !== owner && item.lease.expiresAt > now) return undefined;
      const leased: OutboxItem = { ...item, lease: { owner, expiresAt: now + ttlMs } };
      tx.put(KEY.outbox(clientMsgId), leased);
      return leased;
    });
  }

  releaseLease(clientMsgId: string, owner: string): Promise<void> {
    return this.kv.transaction('readwrite', async (tx) => {
      const item = (await tx.get(KEY.outbox(clientMsgId))) as OutboxItem | undefined;
      if (!item?.lease || item.lease.owner !== owner) return;
      const { lease: _lease, ...rest } = item;
      tx.put(KEY.outbox(clientMsgId), rest);
    });
  }

  /**
   * Adds messages and enforces the bounds: per channel the newest `maxMessagesPerChannel` by `seq`, and at
   * most `maxCachedChannels` channels (the least recently active is dropped). Reads everything it needs
   * before its first write.
   */
  private async writeMessages(tx: KvTransaction, messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return;
    const { maxMessagesPerChannel: perChannel, maxCachedChannels } = this.limits;
    const byChannel = new Map<string, Map<number, Message>>();
    for (const m of messages) {
      let group = byChannel.get(m.channelId);
      if (!group) {
        group = new Map();
        byChannel.set(m.channelId, group);
      }
      group.set(m.seq, m);
    }
    const channelIds = [...byChannel.keys()];
    const indexes = (await tx.getMany(channelIds.map(KEY.index))) as (ChannelIndex | undefined)[];
    const hasNewChannel = indexes.some((i) => i === undefined);
    const allIndexes = hasNewChannel ? await tx.range(prefixRange(KEY.indexes)) : [];

    interface Plan {
      channelId: string;
      puts: Message[];
      drops: string[];
      index: ChannelIndex;
    }
    const plans: Plan[] = [];
    for (const [i, channelId] of channelIds.entries()) {
      const group = [...byChannel.get(channelId)!.values()].sort((a, b) => a.seq - b.seq);
      const keys = group.map((m) => KEY.message(channelId, m.seq));
      const existing = await tx.getMany(keys);
      const previous = indexes[i] ?? { count: 0, lastActivity: 0 };
      const added = existing.filter((v) => v === undefined).length;
      const excess = previous.count + added - perChannel;
      const skip = new Set<number>();
      const drops: string[] = [];
      if (excess > 0) {
        const oldest = await tx.range({ ...prefixRange(KEY.messagesOf(channelId)), limit: excess });
        // The `excess` smallest seqs among stored and incoming messages go; incoming ones are simply not written.
        const candidates = [
          ...oldest.map((r) => ({ seq: (r.value as Message).seq, key: r.key, stored: true })),
          ...group
            .filter((_, j) => existing[j] === undefined)
            .map((m) => ({ seq: m.seq, key: '', stored: false })),
        ]
          .sort((a, b) => a.seq - b.seq)
          .slice(0, excess);
        for (const c of candidates) {
          if (c.stored) drops.push(c.key);
          else skip.add(c.seq);
        }
      }
      const lastActivity = group.reduce((max, m) => Math.max(max, m.createdAt), previous.lastActivity);
      plans.push({
        channelId,
        puts: group.filter((m) => !skip.has(m.seq)),
        drops,
        index: { count: previous.count + added - Math.max(0, excess), lastActivity },
      });
    }

    const evicted = new Set<string>();
    if (hasNewChannel) {
      const known = new Map(
        allIndexes.map((r) => [r.key.slice(KEY.indexes.length), r.value as ChannelIndex]),
      );
      const total = new Set([...known.keys(), ...channelIds]).size;
      const others = [...known.entries()]
        .filter(([id]) => !byChannel.has(id))
        .sort((a, b) => a[1].lastActivity - b[1].lastActivity);
      for (let n = total; n > maxCachedChannels && others.length > 0; n--) evicted.add(others.shift()![0]);
    }

    for (const plan of plans) {
      for (const key of plan.drops) tx.del(key);
      for (const m of plan.puts) tx.put(KEY.message(plan.channelId, m.seq), m);
      tx.put(KEY.index(plan.channelId), plan.index);
    }
    for (const id of evicted) {
      tx.delRange(prefixRange(KEY.messagesOf(id)));
      tx.del(KEY.index(id));
    }
  }
}

function clearCacheIn(tx: KvTransaction): void {
  tx.delRange(prefixRange(KEY.channels));
  tx.delRange(prefixRange(KEY.indexes));
  tx.delRange(prefixRange(KEY.messages));
}
