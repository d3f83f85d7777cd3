import type { Message } from '@natter/protocol';
import {
  type AppendedMessage,
  ErrorCode,
  type LifecycleEntryRecord,
  NatterError,
  type NewMessage,
} from '@natter/server-core';
import { conflictOnDuplicate } from './constraint.js';
import type { WriteStatements } from './statements.js';

/** Appends a message and its sync entries; see {@link prepareAppend}. */
export interface AppendOperation {
  (message: NewMessage, recipientIds: readonly string[]): AppendedMessage;
  /**
   * Forgets the cached numbers. The transaction control calls it whenever anything is rolled back,
   * so a number handed out by a rolled-back append is read again from the tables.
   */
  forgetNumbers(): void;
  /** Appends one lifecycle entry to each recipient's log, numbered from the same cache as messages. */
  appendEntry(
    entry: LifecycleEntryRecord,
    recipientIds: readonly string[],
  ): Array<{ userId: string; pos: number }>;
}

/**
 * Prepares `appendMessage`. It is all or nothing without a savepoint of its own (a savepoint per append
 * cost as much as the append's inserts): every way it can refuse (unknown channel, reused clientMsgId)
 * is decided before its first write, and a failure after that (an I/O error) poisons the batch through
 * `poison`, so the batch's COMMIT refuses and everything is rolled back, even when the caller catches
 * the error and goes on.
 *
 * The next `seq` of a channel and `pos` of each recipient come from in-memory caches, filled from the
 * tables on first use: this connection is the store's only writer, so a cache can only go stale through
 * a rollback, and every rollback clears them. For a group of 100 that is one insert per member
 * instead of a read and an insert.
 */
export function prepareAppend(writes: WriteStatements, poison: (error: unknown) => void): AppendOperation {
  const lastSeqs = new Map<string, number>();
  const heads = new Map<string, number>();
  const lastSeqOf = (channelId: string): number | undefined => {
    let seq = lastSeqs.get(channelId);
    if (seq === undefined) seq = writes.lastSeq.get(channelId)?.last_seq;
    return seq;
  };
  const headOf = (userId: string): number => {
    let head = heads.get(userId);
    if (head === undefined) head = writes.syncHead.get(userId)!.head;
    return head;
  };
  const forgetNumbers = () => {
    lastSeqs.clear();
    heads.clear();
  };

  const append = ((message: NewMessage, recipientIds: readonly string[]): AppendedMessage => {
    const last = lastSeqOf(message.channelId);
    if (last === undefined)
      throw new NatterError(ErrorCode.NOT_FOUND, `channel ${message.channelId} does not exist`);
    // The batch holds the write lock (BEGIN IMMEDIATE), so numbers are handed out in commit order.
    const seq = last + 1;
    const positions = recipientIds.map((userId) => ({ userId, pos: headOf(userId) + 1 }));
    const senderPos = positions.find((p) => p.userId === message.senderId)?.pos ?? 0;
    if (message.clientMsgId !== null) {
      // The first write, and the only one that can be refused: nothing is written before it.
      const clientMsgId = message.clientMsgId;
      conflictOnDuplicate('the sender already used this clientMsgId', () =>
        writes.insertClientMsg.run(message.senderId, clientMsgId, message.channelId, seq, senderPos),
      );
    }
    try {
      writes.setLastSeq.run(seq, message.createdAt, message.channelId);
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
        message.attachments ? JSON.stringify(message.attachments) : null,
      );
      if (message.kind === 'text') {
        for (const userId of new Set(message.mentions)) {
          writes.insertMention.run(userId, message.id, message.channelId, seq);
        }
        writes.insertSearchText.run(message.text, message.channelId, seq);
      }
      if (message.replyTo !== undefined || message.threadRoot !== undefined) {
        writes.setReferences.run(message.replyTo ?? null, message.threadRoot ?? null, message.channelId, seq);
      }
      for (const { userId, pos } of positions)
        writes.insertSyncEntry.run(userId, pos, message.channelId, seq);
    } catch (error) {
      // Half an append is in the transaction: the batch must not commit.
      poison(error);
      throw error;
    }
    lastSeqs.set(message.channelId, seq);
    for (const { userId, pos } of positions) heads.set(userId, pos);
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
      ...(message.replyTo !== undefined ? { replyTo: message.replyTo } : {}),
      ...(message.threadRoot !== undefined ? { threadRoot: message.threadRoot } : {}),
      ...(message.attachments ? { attachments: structuredClone(message.attachments) } : {}),
    };
    return { message: stored, positions };
  }) as AppendOperation;
  append.forgetNumbers = forgetNumbers;
  append.appendEntry = (entry, recipientIds) => {
    const positions = recipientIds.map((userId) => ({ userId, pos: headOf(userId) + 1 }));
    const json = JSON.stringify(entry);
    try {
      for (const { userId, pos } of positions) {
        writes.insertLifecycleEntry.run(userId, pos, entry.channelId, entry.seq, json);
      }
    } catch (error) {
      poison(error);
      throw error;
    }
    for (const { userId, pos } of positions) heads.set(userId, pos);
    return positions;
  };
  return append;
}
