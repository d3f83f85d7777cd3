import { ErrorCode, type Message, NatterError, newPrefixedId, type SyncEntry } from '@natter/protocol';
import type { ChatClientEvents, MutationResult, ReactionEvent } from './client-types.js';
import type { Connection } from './connection.js';
import type { Emitter } from './emitter.js';
import type { EntrySource } from './sync.js';

/**
 * Edit, delete, react and thread reads over the open connection, and the events of lifecycle entries.
 * Each mutation carries a fresh `clientId`, reused for its own retries, so a retry after a lost answer is
 * answered with the original result and never applied twice.
 */
export class MessageActions {
  constructor(
    private readonly connection: Connection,
    private readonly events: Emitter<ChatClientEvents>,
    private readonly now: () => number,
  ) {}

  /** Emits the event of a delivered lifecycle entry; false for a `message` entry (the caller's job). */
  emitEntry(entry: SyncEntry, source: EntrySource): boolean {
    switch (entry.kind) {
      case 'message':
        return false;
      case 'edited':
        this.events.emit('messageEdited', { message: entry.message, pos: entry.pos, source });
        return true;
      case 'deleted':
        this.events.emit('messageDeleted', { message: entry.message, pos: entry.pos, source });
        return true;
      case 'reaction': {
        const { pos, channelId, seq, userId, emoji, added } = entry;
        const event: ReactionEvent = { pos, channelId, seq, userId, emoji, added, source };
        this.events.emit('reactionChanged', event);
        return true;
      }
    }
  }

  edit(channelId: string, seq: number, text: string, mentions?: readonly string[]): Promise<MutationResult> {
    return this.mutate((clientId) => ({
      t: 'edit',
      clientId,
      channelId,
      seq,
      text,
      ...(mentions ? { mentions: [...mentions] } : {}),
    }));
  }

  delete(channelId: string, seq: number): Promise<MutationResult> {
    return this.mutate((clientId) => ({ t: 'delete', clientId, channelId, seq }));
  }

  react(channelId: string, seq: number, emoji: string, add: boolean): Promise<MutationResult> {
    return this.mutate((clientId) => ({
      t: 'react',
      clientId,
      channelId,
      seq,
      emoji,
      op: add ? 'add' : 'remove',
    }));
  }

  async reactors(
    channelId: string,
    seq: number,
    emoji: string,
    page: { after?: string; limit?: number } = {},
  ): Promise<{ userIds: string[]; hasMore: boolean }> {
    const answer = await this.open().request({ t: 'reactors', channelId, seq, emoji, ...page });
    return { userIds: answer.userIds, hasMore: answer.hasMore };
  }

  async threadHistory(
    channelId: string,
    rootSeq: number,
    query: { before?: number; after?: number; around?: number; limit?: number } = {},
  ): Promise<{ messages: Message[]; hasMoreBefore: boolean; hasMoreAfter: boolean }> {
    const answer = await this.open().request({ t: 'history', channelId, threadRoot: rootSeq, ...query });
    return {
      messages: answer.messages,
      hasMoreBefore: answer.hasMoreBefore,
      hasMoreAfter: answer.hasMoreAfter,
    };
  }

  /**
   * Sends a mutation over the open connection. It is not queued in the durable outbox: offline, it fails
   * with NATTER_UNAVAILABLE and the app retries (docs/client.md).
   */
  private async mutate(
    frame: (
      clientId: string,
    ) =>
      | { t: 'edit'; clientId: string; channelId: string; seq: number; text: string; mentions?: string[] }
      | { t: 'delete'; clientId: string; channelId: string; seq: number }
      | { t: 'react'; clientId: string; channelId: string; seq: number; emoji: string; op: 'add' | 'remove' },
  ): Promise<MutationResult> {
    const answer = await this.open().request(frame(newPrefixedId('mut', this.now())));
    return { entry: answer.entry, duplicate: answer.duplicate };
  }

  private open(): Connection {
    if (this.connection.status !== 'open') {
      throw new NatterError(ErrorCode.UNAVAILABLE, 'not connected: message changes need a connection');
    }
    return this.connection;
  }
}
