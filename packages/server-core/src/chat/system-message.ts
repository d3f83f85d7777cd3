import { newId, type SystemEvent } from '@natter/protocol';

/**
 * A system message (membership, rename, slow mode) ready to append: it lives in the channel's sequence like
 * any other message, sent by the actor, with no client id (nothing to deduplicate: the server writes it once
 * inside the transaction that made the change).
 */
export function systemMessage(channelId: string, actorId: string, system: SystemEvent, now: number) {
  return {
    id: newId(now),
    channelId,
    senderId: actorId,
    clientMsgId: null,
    kind: 'system' as const,
    text: '',
    mentions: [],
    system,
    createdAt: now,
  };
}
