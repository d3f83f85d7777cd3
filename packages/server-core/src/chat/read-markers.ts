import type { EphemeralSink } from '../ports/delivery.js';
import type { ChatStore } from '../ports/storage.js';
import { requireMember } from './require-member.js';

/** A member's markers after a raise, and who hears of it. */
export interface RaisedMarkers {
  readSeq: number;
  deliveredSeq: number;
  /** Either marker moved: the receipt went out. */
  raised: boolean;
  memberIds: string[];
}

/**
 * Raises a member's delivery marker, and with `read` the read marker too (never lowers either; clamped
 * to the channel's last seq), and sends the receipt to every member when one moved: the user's own
 * devices learn the new marker (unread badges agree everywhere), the others see the receipt.
 */
export async function raiseMarkers(
  deps: { chat: ChatStore; ephemeral?: EphemeralSink | undefined },
  userId: string,
  channelId: string,
  seq: number,
  read: boolean,
): Promise<RaisedMarkers> {
  const result = await deps.chat.write(
    async (tx) => {
      const channel = await requireMember(tx, channelId, userId);
      const before = (await tx.getMember(channelId, userId))!;
      const upTo = Math.min(seq, channel.lastSeq);
      // Whatever was read was delivered: reading raises both markers.
      const deliveredSeq = await tx.raiseDeliveredMarker(channelId, userId, upTo);
      const readSeq = read ? await tx.raiseReadMarker(channelId, userId, upTo) : before.readSeq;
      const memberIds = (await tx.listMembers(channelId)).map((m) => m.userId);
      const raised = readSeq > before.readSeq || deliveredSeq > before.deliveredSeq;
      return { readSeq, deliveredSeq, raised, memberIds };
    },
    { channelId },
  );
  if (result.raised) {
    deps.ephemeral?.sendToUsers(result.memberIds, {
      t: 'receipt',
      channelId,
      userId,
      readSeq: result.readSeq,
      deliveredSeq: result.deliveredSeq,
    });
  }
  return result;
}
