import { ErrorCode, NatterError } from '@natter/protocol';
import type { ChatStore } from '../ports/storage.js';
import type { BlockList } from './block-list.js';

/** Channels whose kind is remembered at most; emptied when full (a channel's kind never changes). */
const MAX_CHANNELS = 50_000;

/**
 * Refuses 1-1 messages the recipient does not take (they blocked the sender, or their account is
 * deactivated) with one code for both, so a sender cannot tell a block from a closed account. Group
 * messages are never refused for a block: a group is everyone's, as in Slack or WhatsApp.
 */
export class DirectGuard {
  /** channel id -> the direct channel's two user ids, or null for a group. */
  private readonly pairs = new Map<string, readonly [string, string] | null>();

  constructor(
    private readonly chat: Pick<ChatStore, 'getChannel'>,
    private readonly blocks: BlockList,
  ) {}

  /**
   * Returns whether `channelId` is a 1-1 channel, so the caller can skip what only groups have (slow mode):
   * a channel's kind never changes.
   * @throws NatterError RECIPIENT_UNAVAILABLE when the other user of a 1-1 channel takes nothing from `senderId`.
   */
  async checkSend(senderId: string, channelId: string): Promise<boolean> {
    const pair = await this.pairOf(channelId);
    if (!pair) return false;
    if (!pair.includes(senderId)) return true;
    const peer = pair[0] === senderId ? pair[1] : pair[0];
    if (await this.blocks.refusesDirect(peer, senderId)) {
      throw new NatterError(ErrorCode.RECIPIENT_UNAVAILABLE, 'this user is not taking messages');
    }
    return true;
  }

  private async pairOf(channelId: string): Promise<readonly [string, string] | null> {
    const known = this.pairs.get(channelId);
    if (known !== undefined) return known;
    const channel = await this.chat.getChannel(channelId);
    // An unknown channel is not remembered: the send answers NOT_FOUND on its own, and the id may be used later.
    if (!channel) return null;
    const [a, b] = channel.directKey?.split('|') ?? [];
    const pair = channel.kind === 'direct' && a && b ? ([a, b] as const) : null;
    if (this.pairs.size >= MAX_CHANNELS) this.pairs.clear();
    this.pairs.set(channelId, pair);
    return pair;
  }
}
