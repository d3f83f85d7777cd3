import type { Channel, ChannelSummary, Message, SyncEntry } from '@natter/protocol';
import { applyEdited, applyReaction, applyThreadReply } from './lifecycle-apply.js';
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
    case 'slow_mode':
      // The channel's setting follows its announcement, so a cached channel list shows it without a fetch.
      if (system.seconds > 0) next.slowModeSeconds = system.seconds;
      else delete next.slowModeSeconds;
      break;
    case 'created':
      break;
  }
  return next;
}

/** Why a channel appeared in the cache through sync. */
export type ChannelAddedReason = 'created' | 'joined';

/** Hooks of {@link ChatCache}. */
export interface ChatCacheHooks {
  /**
   * Entries added the user to channels the cache does not know (`members_added`): fetch them and hand them
   * to {@link ChatCache.adoptJoined}. Called after the entries were committed.
   */
  onJoined?(channelIds: string[]): void;
  /** A channel appeared in the cache from sync: its `created` entry, or a joined channel once fetched. */
  onChannelAdded?(channel: CachedChannel, reason: ChannelAddedReason): void;
}

/** Whether a system message says the user left the channel or was removed from it. */
function removesMe(message: Message, me: string | undefined): boolean {
  const system = message.kind === 'system' ? message.system : null;
  if (!system || me === undefined) return false;
  return (
    (system.action === 'member_removed' && system.memberId === me) ||
    (system.action === 'member_left' && system.actorId === me)
  );
}

/**
 * The client's view of cached data: an in-memory channel map mirrored to the store, and the one place that
 * turns sync entries into cache writes (messages, channel changes and the cursor in one commit).
 */
export class ChatCache {
  private readonly channels = new Map<string, CachedChannel>();
  /**
   * Channels the user was added to that the cache does not know yet, with the newest message of each seen
   * since (a `members_added` entry carries too little to build the channel: it is fetched).
   */
  private readonly joining = new Map<string, Message>();

  constructor(
    /** The (resilient) store behind the cache. */
    readonly store: ClientStore,
    private readonly me: () => string | undefined,
    private readonly hooks: ChatCacheHooks = {},
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

  /** Channels the user joined that still wait to be fetched (see {@link ChatCacheHooks.onJoined}). */
  joiningIds(): string[] {
    return [...this.joining.keys()];
  }

  /**
   * Writes entries, the channel changes they imply and the cursor that covers them, in one store commit.
   * Lifecycle entries rewrite the cached copy of their message: an edit replaces it (keeping its reactions),
   * a delete replaces it with the tombstone (nothing of the content stays in the store), a reaction adjusts
   * its counts, and a thread reply raises its root's counters.
   */
  async commitEntries(entries: readonly SyncEntry[], cursor: SyncCursor): Promise<void> {
    const changed = new Map<string, CachedChannel>();
    const removed = new Set<string>();
    const created = new Set<string>();
    const joined = new Set<string>();
    const me = this.me();
    const touched = new Map<string, Message>();
    const lookup = async (channelId: string, seq: number): Promise<Message | undefined> => {
      const key = `${channelId}\n${seq}`;
      const staged = touched.get(key);
      if (staged) return staged;
      const [found] = await this.store.getMessages(channelId, { afterSeq: seq - 1, limit: 1 });
      return found?.seq === seq ? found : undefined;
    };
    const stage = (message: Message) => touched.set(`${message.channelId}\n${message.seq}`, message);
    for (const entry of entries) {
      if (entry.kind === 'reaction') {
        const target = await lookup(entry.channelId, entry.seq);
        if (target) stage(applyReaction(target, entry, me));
        continue;
      }
      const { message } = entry;
      if (entry.kind !== 'message') {
        stage(
          entry.kind === 'edited'
            ? applyEdited(await lookup(message.channelId, message.seq), message)
            : message,
        );
        const channel = changed.get(message.channelId) ?? this.channels.get(message.channelId);
        if (channel?.lastMessage?.seq === message.seq) {
          const next = { ...channel, lastMessage: message };
          this.channels.set(next.id, next);
          changed.set(next.id, next);
        }
        continue;
      }
      stage(message);
      if (message.threadRoot !== undefined) {
        const root = await lookup(message.channelId, message.threadRoot);
        if (root) stage(applyThreadReply(root, message));
      }
      const known = this.channels.get(message.channelId);
      const next = applyMessageToChannel(known, message, me);
      if (!known) this.trackUnknown(message, me, next, joined);
      if (next === undefined) continue;
      if (next === null) {
        this.channels.delete(message.channelId);
        changed.delete(message.channelId);
        removed.add(message.channelId);
        created.delete(message.channelId);
      } else {
        if (!known) created.add(next.id);
        this.channels.set(next.id, next);
        changed.set(next.id, next);
        removed.delete(next.id);
      }
    }
    await this.store.commitSync({
      cursor,
      messages: [...touched.values()],
      channels: [...changed.values()],
      removedChannelIds: [...removed],
    });
    for (const id of created) {
      const channel = changed.get(id);
      if (channel) this.hooks.onChannelAdded?.(channel, 'created');
    }
    if (joined.size > 0) this.hooks.onJoined?.([...joined]);
  }

  /**
   * Adds a channel the user joined, fetched from the server, unless it is known by now or the user has left
   * it since; keeps the newest message sync delivered meanwhile. Returns the cached channel, if added.
   */
  async adoptJoined(channel: Channel | ChannelSummary): Promise<CachedChannel | undefined> {
    const latest = this.joining.get(channel.id);
    if (!latest) return undefined;
    this.joining.delete(channel.id);
    if (this.channels.has(channel.id)) return undefined;
    const cached: CachedChannel = { ...channel };
    if ((cached.lastSeq ?? 0) < latest.seq) {
      cached.lastSeq = latest.seq;
      cached.lastMessage = latest;
    }
    this.channels.set(cached.id, cached);
    await this.store.putChannels([cached]);
    this.hooks.onChannelAdded?.(cached, 'joined');
    return cached;
  }

  /** Stops waiting for a joined channel (the server says the user is not a member). */
  forgetJoining(channelId: string): void {
    this.joining.delete(channelId);
  }

  /** Follows entries of channels the cache does not know: joins to fetch, and what happens to them meanwhile. */
  private trackUnknown(
    message: Message,
    me: string | undefined,
    next: CachedChannel | null | undefined,
    joined: Set<string>,
  ): void {
    const id = message.channelId;
    const system = message.kind === 'system' ? message.system : null;
    if (next) {
      this.joining.delete(id);
      joined.delete(id);
    } else if (system?.action === 'members_added' && me !== undefined && system.memberIds.includes(me)) {
      if (!this.joining.has(id)) joined.add(id);
      const seen = this.joining.get(id);
      if (!seen || seen.seq < message.seq) this.joining.set(id, message);
    } else if (removesMe(message, me)) {
      this.joining.delete(id);
      joined.delete(id);
    } else {
      const seen = this.joining.get(id);
      if (seen && seen.seq < message.seq) this.joining.set(id, message);
    }
  }

  /** Replaces the channel list with the server's. */
  async replaceChannels(channels: readonly ChannelSummary[]): Promise<void> {
    this.channels.clear();
    for (const channel of channels) {
      this.channels.set(channel.id, channel);
      this.joining.delete(channel.id);
    }
    await this.store.replaceChannels(channels);
  }

  /** Upserts one channel (from `openDirect`, `createGroup`, …), keeping known summary fields. */
  async putChannel(channel: Channel | ChannelSummary): Promise<CachedChannel> {
    const latest = this.joining.get(channel.id);
    this.joining.delete(channel.id);
    const known =
      this.channels.get(channel.id) ?? (latest ? { lastSeq: latest.seq, lastMessage: latest } : {});
    const merged: CachedChannel = { ...known, ...channel };
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
    this.joining.clear();
    await this.store.resetSync();
  }
}
