import { ErrorCode, NatterError } from '@natter/protocol';
import type { ChannelRecord, WriteTransaction } from '../ports/storage.js';

/** What a non-member hears of a channel: the same answer as for a channel that does not exist. */
export const notFound = () => new NatterError(ErrorCode.NOT_FOUND, 'channel not found');

/** The channel, inside the write's transaction, when `userId` is a member; NOT_FOUND otherwise. */
export async function requireMember(
  tx: WriteTransaction,
  channelId: string,
  userId: string,
): Promise<ChannelRecord> {
  const [channel, member] = await Promise.all([tx.getChannel(channelId), tx.getMember(channelId, userId)]);
  if (!channel || !member) throw notFound();
  return channel;
}

/** {@link requireMember} for a group: a direct channel's members cannot change (FORBIDDEN). */
export async function requireGroupMember(
  tx: WriteTransaction,
  channelId: string,
  userId: string,
): Promise<ChannelRecord> {
  const channel = await requireMember(tx, channelId, userId);
  if (channel.kind !== 'group')
    throw new NatterError(ErrorCode.FORBIDDEN, 'direct channels have fixed members');
  return channel;
}
