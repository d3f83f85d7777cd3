import { ErrorCode, type Message, NatterError, type SyncEntry } from '@natter/protocol';
import type { ChatClientEvents, MutationResult, ReactionEvent } from './client-types.js';
import type { Connection } from './connection.js';
import type { Emitter } from './emitter.js';
import type { Outbox } from './outbox.js';
import type { EntrySource } from './sync.js';

/**
 * Edit, delete, react (through the durable outbox), thread reads over the open connection, and the events
 * of lifecycle entries. Each change carries a fresh `clientId`, kept with it in the outbox and reused for
 * its retries, so a retry after a lost answer is answered with the original result and never applied twice.
 */
export class MessageActions {
  constructor(
    private readonly connection: Connection,
    private readonly events: Emitter<ChatClientEvents>,
    private readonly outbox: Outbox,
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

  /** Edits a message by `seq`, or a message still in the outbox by its `clientMsgId`; queued in the outbox. */
  edit(
    channelId: string,
    target: number | string,
    text: string,
    mentions?: readonly string[],
  ): Promise<MutationResult> {
    return this.outbox.change(channelId, target, { kind: 'edit', text, ...(mentions ? { mentions } : {}) });
  }

  /** Deletes a message; a message whose send has not left the outbox is simply not sent. */
  delete(channelId: string, target: number | string): Promise<MutationResult> {
    return this.outbox.change(channelId, target, { kind: 'delete' });
  }

  /** Adds or removes the user's reaction; queued in the outbox. */
  react(channelId: string, target: number | string, emoji: string, add: boolean): Promise<MutationResult> {
    return this.outbox.change(channelId, target, { kind: 'react', emoji, add });
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

  private open(): Connection {
    if (this.connection.status !== 'open') {
      throw new NatterError(ErrorCode.UNAVAILABLE, 'not connected: message changes need a connection');
    }
    return this.connection;
  }
}
