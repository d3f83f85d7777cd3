import type { Message } from '@natter/protocol';
import { type AppendedMessage, ErrorCode, NatterError, type NewMessage } from '@natter/server-core';
import type Database from 'better-sqlite3';
import { conflictOnDuplicate } from './constraint.js';
import type { WriteStatements } from './statements.js';

/** Appends a message and its sync entries; see {@link prepareAppend}. */
export type AppendOperation = (message: NewMessage, recipientIds: readonly string[]) => AppendedMessage;

/**
 * Prepares `appendMessage` as one better-sqlite3 transaction function. Run inside the batch's
 * transaction it becomes a nested savepoint, so an append that fails half-way (unknown channel,
 * reused clientMsgId) leaves nothing behind even when the caller catches the error and goes on.
 */
export function prepareAppend(db: Database.Database, writes: WriteStatements): AppendOperation {
  return db.transaction((message: NewMessage, recipientIds: readonly string[]): AppendedMessage => {
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
    const positions = recipientIds.map((userId) => {
      const pos = writes.nextPos.get(userId)!.head;
      writes.insertSyncEntry.run(userId, pos, message.channelId, seq);
      return { userId, pos };
    });
    if (message.clientMsgId !== null) {
      const senderPos = positions.find((p) => p.userId === message.senderId)?.pos ?? 0;
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
}
