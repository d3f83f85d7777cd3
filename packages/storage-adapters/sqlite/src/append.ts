import type { Message } from '@natter/protocol';
import { type AppendedMessage, ErrorCode, NatterError, type NewMessage } from '@natter/server-core';
import type Database from 'better-sqlite3';
import { conflictOnDuplicate } from './constraint.js';
import type { WriteStatements } from './statements.js';

/** Appends a message and its sync entries; see {@link prepareAppend}. */
export interface AppendOperation {
  (message: NewMessage, recipientIds: readonly string[]): AppendedMessage;
  /**
   * Forgets the cached sync heads. The transaction control calls it whenever anything is rolled back,
   * so a head handed out by a rolled-back append is read again from the table.
   */
  forgetHeads(): void;
}

/**
 * Prepares `appendMessage` as one better-sqlite3 transaction function. Run inside the batch's
 * transaction it becomes a nested savepoint, so an append that fails half-way (unknown channel,
 * reused clientMsgId) leaves nothing behind even when the caller catches the error and goes on.
 *
 * Each recipient's next `pos` comes from an in-memory cache of sync heads, filled from the sync log's
 * primary key on first use: this connection is the store's only writer, so the cache can only go stale
 * through a rollback, and every rollback clears it. For a group of 100 that is one insert per member
 * instead of a read and an insert.
 */
export function prepareAppend(db: Database.Database, writes: WriteStatements): AppendOperation {
  const heads = new Map<string, number>();
  const headOf = (userId: string): number => {
    let head = heads.get(userId);
    if (head === undefined) head = writes.syncHead.get(userId)!.head;
    return head;
  };
  const run = db.transaction((message: NewMessage, recipientIds: readonly string[]): AppendedMessage => {
    // The batch holds the write lock (BEGIN IMMEDIATE), so numbers are handed out in commit order;
    // rolling back a savepoint hands them out again.
    const allocated = writes.nextSeq.get(message.createdAt, message.channelId);
    if (!allocated) throw new NatterError(ErrorCode.NOT_FOUND, `channel ${message.channelId} does not exist`);
    const seq = allocated.last_seq;
    writes.insertMessage.run(
      message.channelId,
      seq,
      message.id,
      message.senderId,
      message.clientMsgId,
      message.kind,
      message.text,
      JSON.stringify(message.mentions),
      message.system === null ? null : JSON.stringify(message.system),
      message.createdAt,
    );
    if (message.kind === 'text') {
      for (const userId of new Set(message.mentions)) {
        writes.insertMention.run(userId, message.id, message.channelId, seq);
      }
      writes.insertSearchText.run(message.text, message.channelId, seq);
    }
    const positions: Array<{ userId: string; pos: number }> = [];
    let senderPos = 0;
    for (const userId of recipientIds) {
      const pos = headOf(userId) + 1;
      writes.insertSyncEntry.run(userId, pos, message.channelId, seq);
      heads.set(userId, pos);
      positions.push({ userId, pos });
      if (userId === message.senderId) senderPos = pos;
    }
    if (message.clientMsgId !== null) {
      const clientMsgId = message.clientMsgId;
      conflictOnDuplicate('the sender already used this clientMsgId', () =>
        writes.insertClientMsg.run(message.senderId, clientMsgId, message.channelId, seq, senderPos),
      );
    }
    const stored: Message = {
      id: message.id,
      channelId: message.channelId,
      seq,
      senderId: message.senderId,
      clientMsgId: message.clientMsgId,
      kind: message.kind,
      text: message.text,
      mentions: [...message.mentions],
      system: message.system === null ? null : structuredClone(message.system),
      createdAt: message.createdAt,
    };
    return { message: stored, positions };
  });
  const append = ((message: NewMessage, recipientIds: readonly string[]) => {
    try {
      return run(message, recipientIds);
    } catch (error) {
      // The append's savepoint was rolled back: heads it raised are no longer in the table.
      heads.clear();
      throw error;
    }
  }) as AppendOperation;
  append.forgetHeads = () => heads.clear();
  return append;
}
