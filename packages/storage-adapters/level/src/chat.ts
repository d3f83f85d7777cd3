import type { Message, SyncEntry } from '@natter/protocol';
import type {
  ChannelRecord,
  ChatStore,
  HistoryPage,
  HistoryQuery,
  MemberRecord,
  MessageQuery,
  WriteHint,
  WriteTransaction,
} from '@natter/server-core';
import { pageRange } from '@natter/server-core';
import { key, prefix, rangeOf } from './keys.js';
import { LevelLifecycleReads } from './lifecycle.js';
import { LevelModerationReads } from './moderation.js';
import { SnapshotReader } from './reader.js';
import type { LevelDb } from './staging.js';
import { type ChannelValue, type MessageRef, type SyncValue, toChannelRecord } from './values.js';

/** How the chat store reaches the rest of the adapter. */
export interface LevelChatDeps {
  /** The open database; throws UNAVAILABLE when the store is closed. */
  db: () => LevelDb;
  epoch: () => string;
  write: <T>(fn: (tx: WriteTransaction) => Promise<T>) => Promise<T>;
}

/**
 * The LevelDB adapter's {@link ChatStore}. Reads go to the database, which holds only committed
 * batches (a batch in progress lives in the writer's memory until its single `db.batch()`); reads
 * of several keys use one snapshot.
 */
export class LevelChatStore implements ChatStore {
  readonly lifecycle: LevelLifecycleReads;
  readonly moderation: LevelModerationReads;

  constructor(private readonly deps: LevelChatDeps) {
    this.lifecycle = new LevelLifecycleReads((fn) => this.read(fn));
    this.moderation = new LevelModerationReads((fn) => this.read(fn));
  }

  epoch(): string {
    return this.deps.epoch();
  }

  /** The hint is not needed: LevelDB sorts a batch's keys itself, so rows of a channel end up together. */
  write<T>(fn: (tx: WriteTransaction) => Promise<T>, _hint?: WriteHint): Promise<T> {
    return this.deps.write(fn);
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    const value = (await this.deps.db().get(key.channel(channelId))) as ChannelValue | undefined;
    return value && toChannelRecord(value);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    return (await this.deps.db().get(key.member(channelId, userId))) as MemberRecord | undefined;
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    return (await this.deps
      .db()
      .values(rangeOf(prefix.members(channelId)))
      .all()) as MemberRecord[];
  }

  async listChannelsOf(userId: string): Promise<Array<{ channel: ChannelRecord; member: MemberRecord }>> {
    return this.read(async (r) => {
      const p = prefix.membershipsOf(userId);
      const channelIds = (await r.entries(rangeOf(p))).map(([k]) => k.slice(p.length));
      const channels = await r.getMany<ChannelValue>(channelIds.map((id) => key.channel(id)));
      const members = await r.getMany<MemberRecord>(channelIds.map((id) => key.member(id, userId)));
      const rows = channelIds.flatMap((_, i) => {
        const channel = channels[i];
        const member = members[i];
        return channel && member ? [{ channel, member }] : [];
      });
      rows.sort(
        (a, b) =>
          b.channel.lastActivityAt - a.channel.lastActivityAt ||
          b.channel.createdAt - a.channel.createdAt ||
          (a.channel.id < b.channel.id ? -1 : 1),
      );
      return rows.map(({ channel, member }) => ({ channel: toChannelRecord(channel), member }));
    });
  }

  async getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
    return (await this.deps.db().get(key.message(channelId, seq))) as Message | undefined;
  }

  async countUnread(channelId: string, userId: string, afterSeq: number): Promise<number> {
    const p = prefix.messages(channelId);
    const after = Math.max(0, Math.floor(afterSeq));
    const messages = (await this.deps
      .db()
      .values({ gt: key.message(channelId, after), lt: rangeOf(p).lt })
      .all()) as Message[];
    // Deleted messages do not count, nor thread replies unless they mention the reader (issue 24).
    return messages.filter(
      (m) =>
        m.kind === 'text' &&
        m.senderId !== userId &&
        m.deletedAt === undefined &&
        (m.threadRoot === undefined || m.mentions.includes(userId)),
    ).length;
  }

  /** Seqs are gap-free `1..lastSeq`, so the page is plain arithmetic over the channel's lastSeq. */
  async readHistory(channelId: string, query: HistoryQuery): Promise<HistoryPage> {
    return this.read(async (r) => {
      const channel = await r.get<ChannelValue>(key.channel(channelId));
      const range = pageRange(channel?.lastSeq ?? 0, query);
      const messages =
        range.from <= range.to
          ? (
              await r.entries<Message>({
                gte: key.message(channelId, range.from),
                lte: key.message(channelId, range.to),
              })
            ).map(([, m]) => m)
          : [];
      return { messages, hasMoreBefore: range.hasMoreBefore, hasMoreAfter: range.hasMoreAfter };
    });
  }

  /**
   * Walks the reader's mentions index newest id first and keeps what they may see now: channels they
   * are a member of, from their joinedSeq on. Invisible entries are skipped, not deleted (a member
   * who is added back sees them again from the new joinedSeq).
   */
  async mentionsOf(query: MessageQuery): Promise<Message[]> {
    const limit = Math.max(0, Math.floor(query.limit));
    if (limit === 0) return [];
    return this.read(async (r) => {
      const members = new Map<string, MemberRecord | undefined>();
      const found: MessageRef[] = [];
      const p = prefix.mentions(query.userId);
      const below = query.beforeId === undefined ? undefined : p + query.beforeId;
      await r.walkBackwards<MessageRef>(p, below, async (_key, ref) => {
        const [channelId, seq] = ref;
        if (query.channelId !== undefined && channelId !== query.channelId) return true;
        if (!members.has(channelId)) {
          members.set(channelId, await r.get<MemberRecord>(key.member(channelId, query.userId)));
        }
        const member = members.get(channelId);
        if (member && seq >= member.joinedSeq) found.push(ref);
        return found.length < limit;
      });
      const messages = await r.getMany<Message>(found.map(([channelId, seq]) => key.message(channelId, seq)));
      return messages.filter((m): m is Message => m !== undefined);
    });
  }

  async syncHead(userId: string): Promise<number> {
    return ((await this.deps.db().get(key.syncHead(userId))) as number | undefined) ?? 0;
  }

  async readSync(userId: string, after: number, limit: number): Promise<SyncEntry[]> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    return this.read(async (r) => {
      const p = prefix.sync(userId);
      const entries = await r.entries<SyncValue>({
        gt: key.sync(userId, Math.max(0, Math.floor(after))),
        lt: rangeOf(p).lt,
        limit: count,
      });
      const messages = await r.getMany<Message>(
        entries.map(([, [channelId, seq]]) => key.message(channelId, seq)),
      );
      return entries.map(([k, value], i): SyncEntry => {
        const pos = Number.parseInt(k.slice(p.length), 16);
        const entry = value[2];
        if (!entry) return { pos, kind: 'message', message: messages[i]! };
        if (entry.kind === 'reaction') return { pos, ...entry };
        return { pos, kind: entry.kind, message: messages[i]! };
      });
    });
  }

  private read<T>(fn: (reader: SnapshotReader) => Promise<T>): Promise<T> {
    return SnapshotReader.read(this.deps.db(), fn);
  }
}
