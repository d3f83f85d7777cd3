import { type CheckedAppendResult, type CheckedSend, ErrorCode, isNatterError } from '@natter/server-core';
import type { AppendOperation } from './append.js';
import { toMessage } from './rows.js';
import type { ReadStatements } from './statements.js';

/**
 * A whole text send in one synchronous step (the port's `appendChecked`): one read of the member ids,
 * then the append, whose first write (the idempotency key) doubles as the duplicate check. The core's
 * general path reads the key first, then every member row, and awaits three promises; under load the
 * read that finds nothing was a statement per send for the rare retry.
 *
 * The port's order holds: a reused key gives `duplicate` whether or not the sender is still a member,
 * then a non-member gives `notMember`. Nothing is written on either path (the key insert is refused
 * before any other write, see {@link prepareAppend}).
 */
export function appendChecked(
  reads: ReadStatements,
  append: AppendOperation,
  /** Reported before the append's first write: a non-member's send then fails alone, without a rerun. */
  markWritten: () => void,
  send: CheckedSend,
): CheckedAppendResult {
  const memberIds = reads.memberIds.all(send.channelId).map((row) => row.user_id);
  if (!memberIds.includes(send.senderId)) return duplicateOf(reads, send) ?? { kind: 'notMember' };
  const members = new Set(memberIds);
  markWritten();
  try {
    const appended = append(
      {
        id: send.id,
        channelId: send.channelId,
        senderId: send.senderId,
        clientMsgId: send.clientMsgId,
        kind: 'text',
        text: send.text,
        // Mentions of non-members are dropped, so a mention cannot probe who exists.
        mentions: send.mentions.filter((id) => members.has(id)),
        system: null,
        createdAt: send.createdAt,
        ...(send.attachments ? { attachments: send.attachments } : {}),
      },
      memberIds,
    );
    return { kind: 'appended', appended };
  } catch (error) {
    // The key insert is the append's first write; its conflict means the sender used the key before.
    const earlier =
      isNatterError(error) && error.code === ErrorCode.CONFLICT ? duplicateOf(reads, send) : undefined;
    if (earlier) return earlier;
    throw error;
  }
}

function duplicateOf(reads: ReadStatements, send: CheckedSend): CheckedAppendResult | undefined {
  const row = reads.clientMsg.get(send.senderId, send.clientMsgId);
  return row && { kind: 'duplicate', message: toMessage(row), senderPos: row.sender_pos };
}
