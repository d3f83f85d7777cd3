import type { CheckedAppendResult, CheckedSend, WriteTransaction } from '@natter/server-core';

/**
 * `appendChecked` for a store whose transactions lack it (SQLite): the same three steps the core takes
 * without it (`findByClientMsgId`, `listMembers`, `appendMessage`, in the order the storage port states),
 * run in the primary inside one transaction. A worker's send then costs one round trip, and the store's
 * single writer never waits on a worker between the steps.
 */
export async function appendCheckedWith(
  tx: WriteTransaction,
  send: CheckedSend,
): Promise<CheckedAppendResult> {
  if (tx.appendChecked) return tx.appendChecked(send);
  const earlier = await tx.findByClientMsgId(send.senderId, send.clientMsgId);
  if (earlier) return { kind: 'duplicate', message: earlier.message, senderPos: earlier.senderPos };
  const members = await tx.listMembers(send.channelId);
  const memberIds = new Set(members.map((m) => m.userId));
  if (!memberIds.has(send.senderId)) return { kind: 'notMember' };
  const appended = await tx.appendMessage(
    {
      id: send.id,
      channelId: send.channelId,
      senderId: send.senderId,
      clientMsgId: send.clientMsgId,
      kind: 'text',
      text: send.text,
      mentions: [...new Set(send.mentions)].filter((id) => memberIds.has(id)),
      system: null,
      createdAt: send.createdAt,
      ...(send.attachments && send.attachments.length > 0 ? { attachments: send.attachments } : {}),
    },
    members.map((m) => m.userId),
  );
  return { kind: 'appended', appended };
}
