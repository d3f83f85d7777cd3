import type { Channel, ChannelSummary, Message, SyncEntry } from '@natter/protocol';
import type { CachedChannel, CachedMessagesQuery, ClientStore, SyncCursor } from './store.js';

/**
 * What a message changes in a cached channel: `undefined` for nothing, `null` when the user is no longer a
 * member, else the updated channel. Membership events older than what the channel already reflects are
 * ignored, so replaying the log over a fresh channel list never rolls it back.
 */
export function applyMessageToChannel(
  channel: CachedChannel | undefined,
  message: Message,
  me: string | undefined,
): CachedChannel | null | undefined {
  const system = message.kind === 'system' ? message.system : null;
  if (!channel) {
    if (system?.action !== 'created') return undefined;
    return {
      id: message.channelId,
      kind: system.name === null ? 'direct' : 'group',
      name: system.name,
      createdBy: system.actorId,
      createdAt: message.createdAt,
      memberIds: [...system.memberIds],
      lastSeq: message.seq,
      lastMessage: message,
      readSeq: 0,
      unread: 0,
    };
  }
  const known = channel.lastSeq ?? 0;
  if (message.seq <= known) return undefined;
  const next: CachedChannel = { ...channel, lastSeq: message.seq, lastMessage: message };
  if (channel.unread !== undefined && message.senderId !== me) next.unread = channel.unread + 1;
  if (!system) return next;
  switch (system.action) {
    case 'renamed':
      next.name = system.name;
      break;
    case 'members_added':
      next.memberIds = [...new Set([...channel.memberIds, ...system.memberIds])];
      break;
    case 'member_removed':
      if (system.memberId === me) return null;
      next.memberIds = channel.memberIds.filter((id) => id !== system.memberId);
      break;
    case 'member_left':
      if (system.actorId === me) return null;
      next.memberIds = channel.memberIds.filter((id) => id !== system.actorId);
      break;
    case 'created':
      break;
  }
  return next;
}

/**
 * The client's view of cached data: an in-memory channel map mirrored to the store, and the one place that
 * turns sync entries into cache writes (messages, channel updates and the cursor in one commit).
 */
export class ChatCache {
  private readonly channels = new Map<string, CachedChannel>();

  constructor(
    /** The (resilient) store behind the cache. */
    readonly store: ClientStore,
    private readonly me: () => string | undefined,
  ) {}

  /** Loads the cached channel list into memory. */
  async load(): Promise<void> {
    this.channels.clear();
    for (const channel of await this.store.getChannels()) this.channels.set(channel.id, channel);
  }

  /** Cached channels, most recently active first. */
  listChannels(): CachedChannel[] {
    return [...this.channels.values()].sort(
      (a, b) => (b.lastMessage?.createdAt ?? b.createdAt) - (a.lastMessage?.createdAt ?? a.createdAt),
    );
  }

  /** One cached channel. */
  getChannel(channelId: string): CachedChannel | undefined {
    return this.channels.get(channelId);
  }

  /** Writes entries, the channel changes they imply and the cursor that covers them, in one store commit. */
  async commitEntries(entries: readonly SyncEntry[], cursor: SyncCursor): Promise<void> {
    const changed = new Map<string, CachedChannel>();
    const removed = new Set<string>();
    const me = this.me();
    for (const { message } of entries) {
      const next = applyMessageToChannel(this.channels.get(message.channelId), message, me);
      if (next === undefined) continue;
      if (next === null) {
        this.channels.delete(message.channelId);
        changed.delete(message.channelId);
        removed.add(message.channelId);
      } else {
        this.channels.set(next.id, next);
        changed.set(next.id, next);
        removed.delete(next.id);
      }
    }
    await this.store.commitSync({
      cursor,
      messages: entries.map((e) => e.message),
      channels: [...changed.values()],
      removedChannelIds: [...removed],
    });
  }

  /** Replaces the channel list with the server's. */
  async replaceChannels(channels: readonly ChannelSummary[]): Promise<void> {
    this.channels.clear();
    for (const channel of channels) this.channels.set(channel.id, channel);
    await this.store.replaceChannels(channels);
  }

  /** Upserts one channel (from `openDirect`, `createGroup`, …), keeping known summary fields. */
  async putChannel(channel: Channel | ChannelSummary): Promise<CachedChannel> {
    const merged: CachedChannel = { ...this.channels.get(channel.id), ...channel };
    this.channels.set(channel.id, merged);
    await this.store.putChannels([merged]);
    return merged;
  }

  /** Adds a history page to the message cache. */
  putMessages(messages: readonly Message[]): Promise<void> {
    return this.store.putMessages(messages);
  }

  /** Cached messages of a channel, ascending by `seq`. */
  getMessages(channelId: string, query?: CachedMessagesQuery): Promise<Message[]> {
    return this.store.getMessages(channelId, query);
  }

  /** Forgets cursor, channels and messages. */
  async reset(): Promise<void> {
    this.channels.clear();
    await this.store.resetSync();
  }
}
