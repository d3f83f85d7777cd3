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
import { SqliteLifecycleReads } from './lifecycle.js';
import { SqliteModerationReads } from './moderation.js';
import { type MessageRow, toChannel, toChannelWithMember, toMember, toMessage, toSyncEntry } from './rows.js';
import { ftsQuery } from './search.js';
import { MAX_POSITION, type ReadStatements, type VisibleQuery } from './statements.js';

/** How the chat store reaches the rest of the adapter. */
export interface SqliteChatDeps {
  /** Runs `fn` on the read-only connection's statements once the state it sees is durable. */
  read: <T>(fn: (reads: ReadStatements) => T) => Promise<T>;
  epoch: () => string;
  write: <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint) => Promise<T>;
}

/**
 * The SQLite adapter's {@link ChatStore}. Reads use the read-only connection: in WAL mode it sees the
 * last commit, never a batch in progress, and only once that commit is durable. Each read runs
 * synchronously, so a read made of several statements sees one state (commits happen on the same
 * thread, between reads).
 */
export class SqliteChatStore implements ChatStore {
  readonly lifecycle: SqliteLifecycleReads;
  readonly moderation: SqliteModerationReads;

  constructor(private readonly deps: SqliteChatDeps) {
    this.lifecycle = new SqliteLifecycleReads(deps.read);
    this.moderation = new SqliteModerationReads(deps.read);
  }

  epoch(): string {
    return this.deps.epoch();
  }

  write<T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint): Promise<T> {
    return this.deps.write(fn, hint);
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    return this.deps.read((r) => {
      const row = r.channel.get(channelId);
      return row && toChannel(row);
    });
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    return this.deps.read((r) => {
      const row = r.member.get(channelId, userId);
      return row && toMember(row);
    });
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    return this.deps.read((r) => r.members.all(channelId).map(toMember));
  }

  async listChannelsOf(userId: string): Promise<Array<{ channel: ChannelRecord; member: MemberRecord }>> {
    return this.deps.read((r) => r.channelsOf.all(userId).map((row) => toChannelWithMember(row, userId)));
  }

  async getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    return this.deps.read((r) => {
      const row = r.message.get(channelId, seq);
      return row && toMessage(row);
    });
  }

  async countUnread(channelId: string, userId: string, afterSeq: number): Promise<number> {
    return this.deps.read((r) => r.countUnread.get(channelId, afterSeq, userId, userId)!.n);
  }

  async readHistory(channelId: string, query: HistoryQuery): Promise<HistoryPage> {
    return this.deps.read((r) => readHistoryPage(r, channelId, query));
  }

  async mentionsOf(query: MessageQuery): Promise<Message[]> {
    return this.deps.read((r) => r.mentionsOf.all(visibleQuery(query)).map(toMessage));
  }

  async searchMessages(query: MessageQuery & { text: string }): Promise<Message[]> {
    const match = ftsQuery(query.text);
    if (match === undefined) return [];
    return this.deps.read((r) => r.searchMessages.all({ ...visibleQuery(query), match }).map(toMessage));
  }

  async syncHead(userId: string): Promise<number> {
    return this.deps.read((r) => r.syncHead.get(userId)?.head ?? 0);
  }

  async readSync(userId: string, after: number, limit: number): Promise<SyncEntry[]> {
    return this.deps.read((r) =>
      r.syncAfter.all(userId, after, Math.max(0, Math.floor(limit))).map(toSyncEntry),
    );
  }
}

/** The named parameters of a {@link MessageQuery}. */
function visibleQuery(query: MessageQuery): VisibleQuery {
  return {
    userId: query.userId,
    beforeId: query.beforeId ?? null,
    channelId: query.channelId ?? null,
    limit: Math.max(0, Math.floor(query.limit)),
  };
}

/**
 * One history page. The page is the `limit` visible messages (seq >= minSeq) closest to the anchor;
 * `around` takes up to `floor(limit / 2)` before the anchor and the rest from the anchor on, and
 * fills a short side from the other. The flags say whether visible messages lie before the page's
 * first and after its last message (for an empty page: on either side of the anchor).
 */
export function readHistoryPage(
  reads: ReadStatements,
  channelId: string,
  query: HistoryQuery,
  /** Page the replies of this thread root instead of the whole channel. */
  threadRoot?: number,
): HistoryPage {
  const lo = Math.max(1, Math.floor(query.minSeq));
  const limit = Math.max(0, Math.floor(query.limit));
  const ascending = (from: number, to: number, n: number) =>
    threadRoot === undefined
      ? reads.rangeAscending.all(channelId, Math.max(lo, from), to, n)
      : reads.threadAscending.all(channelId, threadRoot, Math.max(lo, from), to, n);
  const descending = (from: number, to: number, n: number) =>
    (threadRoot === undefined
      ? reads.rangeDescending.all(channelId, Math.max(lo, from), to, n)
      : reads.threadDescending.all(channelId, threadRoot, Math.max(lo, from), to, n)
    ).reverse();
  const anyInRange = (from: number, to: number) =>
    threadRoot === undefined
      ? reads.anyInRange.get(channelId, from, to)!.found === 1
      : ascending(from, to, 1).length > 0;

  let rows: MessageRow[];
  let split: number; // for an empty page: visible seqs below `split` lie before it
  if (query.before !== undefined) {
    rows = descending(lo, query.before - 1, limit);
    split = query.before;
  } else if (query.after !== undefined) {
    rows = ascending(query.after + 1, MAX_POSITION, limit);
    split = query.after + 1;
  } else if (query.around !== undefined) {
    const older = descending(lo, query.around - 1, limit);
    const newer = ascending(query.around, MAX_POSITION, limit);
    const newerCount = Math.min(newer.length, limit - Math.min(older.length, Math.floor(limit / 2)));
    const olderCount = Math.min(older.length, limit - newerCount);
    rows = [...older.slice(older.length - olderCount), ...newer.slice(0, newerCount)];
    split = query.around;
  } else {
    rows = descending(lo, MAX_POSITION, limit);
    split = MAX_POSITION;
  }

  const first = rows[0]?.seq ?? split;
  const last = rows.at(-1)?.seq ?? split - 1;
  return {
    messages: rows.map(toMessage),
    hasMoreBefore: first > lo && anyInRange(lo, first - 1),
    hasMoreAfter: anyInRange(Math.max(lo, last + 1), MAX_POSITION),
  };
}
