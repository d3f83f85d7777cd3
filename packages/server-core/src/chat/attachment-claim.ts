import { ErrorCode, MEDIA_LIMITS, NatterError } from '@natter/protocol';
import type { MediaClaim, MediaPlug } from '../ports/media.js';

/**
 * Claims the uploads a send names (plaintext `send` and encrypted `POST /v1/channels/{id}/encrypted` alike):
 * at most `MEDIA_LIMITS.maxAttachmentsPerMessage`, each the sender's own and carried by no other message.
 * Undefined when the send names none. The caller stores the message, then commits the claim with its seq, or
 * cancels it when nothing was stored.
 */
export async function claimAttachments(
  media: Pick<MediaPlug, 'claim'> | undefined,
  userId: string,
  channelId: string,
  clientMsgId: string,
  refs: ReadonlyArray<{ mediaId: string }>,
): Promise<MediaClaim | undefined> {
  if (refs.length === 0) return undefined;
  if (refs.length > MEDIA_LIMITS.maxAttachmentsPerMessage) {
    throw new NatterError(
      ErrorCode.BAD_REQUEST,
      `at most ${MEDIA_LIMITS.maxAttachmentsPerMessage} attachments per message`,
    );
  }
  if (!media) throw new NatterError(ErrorCode.BAD_REQUEST, 'this server takes no attachments');
  const ids = [...new Set(refs.map((r) => r.mediaId))];
  return media.claim(userId, channelId, clientMsgId, ids);
}
