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
import { copyMessage, copyOptional, copyRecord } from './copy.js';
import { MemoryLifecycleReads } from './lifecycle.js';
import { MemoryModerationReads } from './moderation.js';
import type { MemoryState } from './state.js';
import { mentionsOf, searchMessages } from './visible.js';
import { toChannelRecord } from './write-transaction.js';

/** How the chat store reaches the rest of the adapter. */
export interface MemoryChatDeps {
  state: MemoryState;
  epoch: () => string;
  write: <T>(fn: (tx: WriteTransaction) => Promise<T>) => Promise<T>;
}

/** The memory adapter's {@link ChatStore}: reads from the committed state, writes through `deps.write`. */
export class MemoryChatStore implements ChatStore {
  readonly lifecycle: MemoryLifecycleReads;
  readonly moderation: MemoryModerationReads;

  constructor(private readonly deps: MemoryChatDeps) {
    this.lifecycle = new MemoryLifecycleReads(deps.state);
    this.moderation = new MemoryModerationReads(deps.state);
  }

  epoch(): string {
    return this.deps.epoch();
  }

  write<T>(fn: (tx: WriteTransaction) => Promise<T>, _hint?: WriteHint): Promise<T> {
    return this.deps.write(fn);
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    const row = this.deps.state.channels.get(channelId);
    return row && toChannelRecord(row);
  }

  async getMember(channelId: string, userId: string): Promise<MemberRecord | undefined> {
    return copyOptional(this.deps.state.members.get(channelId)?.get(userId));
  }

  async listMembers(channelId: string): Promise<MemberRecord[]> {
    return [...(this.deps.state.members.get(channelId)?.values() ?? [])].map(copyRecord);
  }

  async listChannelsOf(userId: string): Promise<Array<{ channel: ChannelRecord; member: MemberRecord }>> {
    const { state } = this.deps;
    const rows = [...(state.channelsOfUser.get(userId) ?? [])].map((id) => state.channels.get(id)!);
    rows.sort(
      (a, b) => b.lastActivityAt - a.lastActivityAt || b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1),
    );
    return rows.map((row) => ({
      channel: toChannelRecord(row),
      member: copyRecord(state.members.get(row.id)!.get(userId)!),
    }));
  }

  async getMessage(channelId: string, seq: number): Promise<Message | undefined> {
    const message = seq >= 1 ? this.deps.state.messages.get(channelId)?.[seq - 1] : undefined;
    return message && copyMessage(message);
  }

  async countUnread(channelId: string, userId: string, afterSeq: number): Promise<number> {
    const messages = this.deps.state.messages.get(channelId) ?? [];
    let count = 0;
    for (let i = Math.max(0, Math.floor(afterSeq)); i < messages.length; i++) {
      const message = messages[i]!;
      if (message.kind !== 'text' || message.senderId === userId || message.deletedAt !== undefined) continue;
      // Thread replies count only when they mention the reader (decisions.md, issue 24).
      if (message.threadRoot !== undefined && !message.mentions.includes(userId)) continue;
      count++;
    }
    return count;
  }

  async readHistory(channelId: string, query: HistoryQuery): Promise<HistoryPage> {
    const messages = this.deps.state.messages.get(channelId) ?? [];
    const range = pageRange(messages.length, query);
    return {
      messages: range.from <= range.to ? messages.slice(range.from - 1, range.to).map(copyMessage) : [],
      hasMoreBefore: range.hasMoreBefore,
      hasMoreAfter: range.hasMoreAfter,
    };
  }

  async mentionsOf(query: MessageQuery): Promise<Message[]> {
    return mentionsOf(this.deps.state, query).map(copyMessage);
  }

  async searchMessages(query: MessageQuery & { text: string }): Promise<Message[]> {
    return searchMessages(this.deps.state, query).map(copyMessage);
  }

  async syncHead(userId: string): Promise<number> {
    return this.deps.state.syncLogs.get(userId)?.length ?? 0;
  }

  async readSync(userId: string, after: number, limit: number): Promise<SyncEntry[]> {
    const { state } = this.deps;
    const log = state.syncLogs.get(userId) ?? [];
    const start = Math.max(0, Math.floor(after));
    return log.slice(start, start + Math.max(0, limit)).map((ref, i): SyncEntry => {
      const pos = start + i + 1;
      const message = () => copyMessage(state.messages.get(ref.channelId)![ref.seq - 1]!);
      if (!ref.entry) return { pos, kind: 'message', message: message() };
      if (ref.entry.kind === 'reaction') return { pos, ...ref.entry };
      return { pos, kind: ref.entry.kind, message: message() };
    });
  }
}
