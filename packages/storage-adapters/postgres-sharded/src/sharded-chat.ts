import type { Message, SyncEntry } from '@natter/protocol';
import type {
  ChannelRecord,
  ChatStore,
  HistoryPage,
  HistoryQuery,
  LateEntriesListener,
  LifecycleReads,
  MemberRecord,
  MessageQuery,
  ModerationReads,
  WriteHint,
  WriteTransaction,
} from '@natter/server-core';
import { channelsOf } from './scatter.js';
import type { ShardServer } from './server.js';
import { channelOfModerationKey } from './shard-map.js';
import type { ShardedTxDeps } from './sharded-tx.js';
import { shardedWrite } from './sharded-write.js';
import { readUserLog, userHead } from './user-log.js';

/**
 * The sharded {@link ChatStore}: a channel's reads go to its server's adapter, a user's sync log to
 * the user's server, reads over all of a user's channels (channel list, mentions, search) to every
 * server at once, merged.
 */
export class ShardedChatStore implements ChatStore {
  readonly lifecycle: LifecycleReads;
  readonly moderation: ModerationReads;
  private lateListeners = new Set<LateEntriesListener>();

  constructor(
    private readonly deps: ShardedTxDeps,
    private readonly epochValue: () => string,
  ) {
    const chatOf = (channelId: string) => this.serverOf(channelId).adapter.chat;
    const guard = <T>(channelId: string, fn: () => Promise<T>) => this.serverOf(channelId).guard(fn);
    this.lifecycle = {
      reactionsOf: (channelId, seqs, viewerId) =>
        guard(channelId, () => chatOf(channelId).lifecycle!.reactionsOf(channelId, seqs, viewerId)),
      reactorsOf: (channelId, seq, emoji, after, limit) =>
        guard(channelId, () => chatOf(channelId).lifecycle!.reactorsOf(channelId, seq, emoji, after, limit)),
      readThread: (channelId, rootSeq, query) =>
        guard(channelId, () => chatOf(channelId).lifecycle!.readThread(channelId, rootSeq, query)),
    };
    const moderationServer = (key: string) => {
      const channelId = channelOfModerationKey(key);
      return channelId !== undefined ? this.serverOf(channelId) : deps.servers[deps.home]!;
    };
    this.moderation = {
      get: (key) => {
        const server = moderationServer(key);
        return server.guard(() => server.adapter.chat.moderation!.get(key));
      },
      list: (prefix, after, limit) => {
        const server = moderationServer(prefix);
        return server.guard(() => server.adapter.chat.moderation!.list(prefix, after, limit));
      },
    };
  }

  private serverOf(id: string): ShardServer {
    return this.deps.servers[this.deps.map.serverOf(id)]!;
  }

  /** The home server's epoch: the sharded log's lifetime is the home server's. */
  epoch(): string {
    return this.epochValue();
  }

  write<T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T> {
    return shardedWrite(this.deps, fn, hint);
  }

  /**
   * Calls `listener` with entries the fan-out worker committed to users' logs that no `write()` of
   * this process returned (entries of a process that crashed after its commit, or of a recipient
   * whose server was down): deliver them live like a write's. Returns the unsubscribe function.
   */
  onLateEntries(listener: LateEntriesListener): () => void {
    this.lateListeners.add(listener);
    return () => this.lateListeners.delete(listener);
  }

  /** The listeners, called by the fan-out workers. */
  readonly lateEntries: LateEntriesListener = (entries) => {
    for (const listener of this.lateListeners) listener(entries);
  };

  getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    const server = this.serverOf(channelId);
    return server.guard(() => server.adapter.chat.getChannel(channelId));
  }

  getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    const server = this.serverOf(channelId);
    return server.guard(() => server.adapter.chat.getMember(channelId, userId));
  }

  listMembers(channelId: string): Promise<MemberRecord[]> {
    const server = this.serverOf(channelId);
    return server.guard(() => server.adapter.chat.listMembers(channelId));
  }

  listChannelsOf(userId: string): Promise<Array<{ channel: ChannelRecord; member: MemberRecord }>> {
    return channelsOf(this.deps.servers, userId);
  }

  getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    const server = this.serverOf(channelId);
    return server.guard(() => server.adapter.chat.getMessage(channelId, seq));
  }

  countUnread(channelId: string, userId: string, afterSeq: number): Promise<number> {
    const server = this.serverOf(channelId);
    return server.guard(() => server.adapter.chat.countUnread(channelId, userId, afterSeq));
  }

  readHistory(channelId: string, query: HistoryQuery): Promise<HistoryPage> {
    const server = this.serverOf(channelId);
    return server.guard(() => server.adapter.chat.readHistory(channelId, query));
  }

  mentionsOf(query: MessageQuery): Promise<Message[]> {
    return this.newestFirst(query, (chat) => chat.mentionsOf(query));
  }

  searchMessages(query: MessageQuery & { text: string }): Promise<Message[]> {
    return this.newestFirst(query, (chat) => chat.searchMessages!(query));
  }

  syncHead(userId: string): Promise<number> {
    return userHead(this.serverOf(userId), userId);
  }

  readSync(userId: string, after: number, limit: number): Promise<SyncEntry[]> {
    return readUserLog(this.deps, this.serverOf(userId), userId, after, limit);
  }

  /** One channel's server, or every server merged by message id, newest first. */
  private async newestFirst(
    query: MessageQuery,
    read: (chat: ChatStore) => Promise<Message[]>,
  ): Promise<Message[]> {
    const servers = query.channelId !== undefined ? [this.serverOf(query.channelId)] : this.deps.servers;
    const pages = await Promise.all(servers.map((server) => server.guard(() => read(server.adapter.chat))));
    return pages
      .flat()
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, Math.max(0, Math.floor(query.limit)));
  }
}
