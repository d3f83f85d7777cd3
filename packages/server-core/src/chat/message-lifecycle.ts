import {
  ErrorCode,
  type Message,
  NatterError,
  type ProtocolLimits,
  type SyncEntry,
  utf8ByteLength,
} from '@natter/protocol';
import type { Delivery, DeliveryOrigin, DeliverySink } from '../ports/delivery.js';
import type { LifecycleEntryRecord, LifecycleWrites } from '../ports/lifecycle.js';
import type { MediaPlug } from '../ports/media.js';
import type { ChatStore, MemberRecord, WriteTransaction } from '../ports/storage.js';
import { previewOf } from './decorate.js';

/** What every mutation carries: its idempotency key and the message it changes. */
export interface MutationTarget {
  /** The mutation's idempotency key, unique per user. */
  clientId: string;
  channelId: string;
  seq: number;
}

/** Result of a mutation: the caller's entry for it (null when nothing changed), and whether it was a retry. */
export interface MutationResult {
  entry: SyncEntry | null;
  duplicate: boolean;
}

/** Dependencies of {@link MessageLifecycle}. */
export interface MessageLifecycleOptions {
  chat: ChatStore;
  limits: ProtocolLimits;
  sink: DeliverySink;
  now: () => number;
  /** With media on: a deleted message's uploads become unreachable (and their blobs deleted when unused). */
  media?: Pick<MediaPlug, 'releaseMessage'> | undefined;
}

/** What a mutation's transaction produced. */
type Outcome =
  | { kind: 'duplicate'; pos: number }
  | { kind: 'unchanged' }
  | {
      kind: 'changed';
      positions: Array<{ userId: string; pos: number }>;
      entryOf: (pos: number) => SyncEntry;
    };

const notFound = () => new NatterError(ErrorCode.NOT_FOUND, 'message not found');

/**
 * Edits, deletes and reactions: each a rule check, a change and one lifecycle entry per member, in one
 * transaction, so a device learns every change through the same gap-free log as new messages. A stranger
 * gets NOT_FOUND for the channel and for the message alike.
 */
export class MessageLifecycle {
  constructor(private readonly options: MessageLifecycleOptions) {}

  /** The author replaces the text (and mentions) of their message, within the edit window. */
  async edit(
    userId: string,
    input: MutationTarget & { text: string; mentions?: readonly string[] },
    origin?: DeliveryOrigin,
  ): Promise<MutationResult> {
    const { limits, now } = this.options;
    if (utf8ByteLength(input.text) > limits.maxMessageBytes) {
      throw new NatterError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `message text exceeds ${limits.maxMessageBytes} bytes`,
      );
    }
    return this.mutate(userId, input, origin, async (lc, members, message) => {
      if (message.kind !== 'text' || message.senderId !== userId) {
        throw new NatterError(ErrorCode.FORBIDDEN, 'only the author edits a message');
      }
      const at = now();
      if (limits.editWindowMs > 0 && at - message.createdAt > limits.editWindowMs) {
        throw new NatterError(ErrorCode.EDIT_WINDOW_CLOSED, 'the edit window of this message has closed');
      }
      const memberIds = new Set(members.map((m) => m.userId));
      const mentions = [...new Set(input.mentions ?? [])].filter((id) => memberIds.has(id));
      await lc.editMessage(input.channelId, input.seq, {
        text: input.text,
        mentions,
        editedAt: at,
        version: (message.version ?? 1) + 1,
      });
      return { kind: 'edited', channelId: input.channelId, seq: input.seq };
    });
  }

  /** Deletes a message for everyone: its author may, and a group admin may delete any message. */
  async delete(userId: string, input: MutationTarget, origin?: DeliveryOrigin): Promise<MutationResult> {
    const result = await this.mutate(userId, input, origin, async (lc, members, message, tx) => {
      if (message.kind !== 'text') throw new NatterError(ErrorCode.FORBIDDEN, 'system messages stay');
      if (message.senderId !== userId) {
        const channel = await tx.getChannel(input.channelId);
        const me = members.find((m) => m.userId === userId);
        if (channel?.kind !== 'group' || me?.role !== 'admin') {
          throw new NatterError(ErrorCode.FORBIDDEN, 'only the author or a group admin deletes a message');
        }
      }
      await lc.eraseMessage(input.channelId, input.seq, this.options.now(), userId);
      return { kind: 'deleted', channelId: input.channelId, seq: input.seq };
    });
    // After the commit: the media records go only once the message is gone for good. A crash in between
    // leaves the uploads unreachable anyway (the message no longer names them) until the sweeper finds them.
    await this.options.media?.releaseMessage(input.channelId, input.seq);
    return result;
  }

  /** Adds or removes the caller's reaction; adding one that is there (or removing one that is not) is a no-op. */
  async react(
    userId: string,
    input: MutationTarget & { emoji: string; add: boolean },
    origin?: DeliveryOrigin,
  ): Promise<MutationResult> {
    return this.mutate(userId, input, origin, async (lc, _members, message) => {
      if (message.kind !== 'text')
        throw new NatterError(ErrorCode.FORBIDDEN, 'system messages take no reactions');
      const { channelId, seq, emoji, add } = input;
      if (add) {
        const emojis = await lc.reactionEmojis(channelId, seq);
        if (!emojis.includes(emoji) && emojis.length >= this.options.limits.maxReactionEmojis) {
          throw new NatterError(
            ErrorCode.REACTION_LIMIT,
            `a message carries at most ${this.options.limits.maxReactionEmojis} distinct emojis`,
          );
        }
      }
      const changed = await lc.setReaction({ channelId, seq, userId, emoji, add });
      return changed ? { kind: 'reaction', channelId, seq, userId, emoji, added: add } : undefined;
    });
  }

  /** Who reacted to a message with `emoji`, a page of ascending user ids. */
  async reactors(
    userId: string,
    input: { channelId: string; seq: number; emoji: string; after?: string; limit?: number },
  ): Promise<{ userIds: string[]; hasMore: boolean }> {
    const { chat, limits } = this.options;
    const reads = chat.lifecycle;
    const member = await chat.getMember(input.channelId, userId);
    if (!reads || !member || input.seq < member.joinedSeq) throw notFound();
    const message = await chat.getMessage(input.channelId, input.seq);
    if (!message) throw notFound();
    const limit = Math.min(input.limit ?? 50, limits.maxHistoryPage);
    const ids = await reads.reactorsOf(input.channelId, input.seq, input.emoji, input.after, limit + 1);
    return { userIds: ids.slice(0, limit), hasMore: ids.length > limit };
  }

  /**
   * The shared frame of every mutation: the idempotency key first (a retry gets the original answer even
   * if the message changed since), then membership, then the message, then `change`; the entry it returns
   * goes to every member's log in the same transaction.
   */
  private async mutate(
    userId: string,
    input: MutationTarget,
    origin: DeliveryOrigin | undefined,
    change: (
      lc: LifecycleWrites,
      members: MemberRecord[],
      message: Message,
      tx: WriteTransaction,
    ) => Promise<LifecycleEntryRecord | undefined>,
  ): Promise<MutationResult> {
    const { chat } = this.options;
    const outcome = await chat.write(
      async (tx): Promise<Outcome> => {
        const lc = tx.lifecycle;
        if (!lc) throw new NatterError(ErrorCode.NOT_FOUND, 'this store does not keep message changes');
        const earlier = await lc.findMutation(userId, input.clientId);
        if (earlier !== undefined) return { kind: 'duplicate', pos: earlier };
        const members = await tx.listMembers(input.channelId);
        const me = members.find((m) => m.userId === userId);
        if (!me) throw new NatterError(ErrorCode.NOT_FOUND, 'channel not found');
        const message = await lc.getMessage(input.channelId, input.seq);
        if (!message || input.seq < me.joinedSeq) throw notFound();
        if (message.deletedAt !== undefined) {
          throw new NatterError(ErrorCode.MESSAGE_DELETED, 'the message was deleted');
        }
        const record = await change(lc, members, message, tx);
        if (!record) {
          await lc.recordMutation(userId, input.clientId, 0);
          return { kind: 'unchanged' };
        }
        const positions = await lc.appendEntry(
          record,
          members.map((m) => m.userId),
        );
        await lc.recordMutation(userId, input.clientId, positions.find((p) => p.userId === userId)?.pos ?? 0);
        const entryOf = await entryMaker(lc, record);
        return { kind: 'changed', positions, entryOf };
      },
      { channelId: input.channelId },
    );
    switch (outcome.kind) {
      case 'duplicate': {
        const entry =
          outcome.pos === 0 ? null : ((await chat.readSync(userId, outcome.pos - 1, 1))[0] ?? null);
        origin?.onAck(entry, true);
        return { entry, duplicate: true };
      }
      case 'unchanged':
        origin?.onAck(null, false);
        return { entry: null, duplicate: false };
      case 'changed': {
        let mine: SyncEntry | null = null;
        const deliveries: Delivery[] = outcome.positions.map(({ userId: to, pos }) => {
          const entry = outcome.entryOf(pos);
          if (to === userId) mine = entry;
          return { userId: to, entry };
        });
        origin?.onAck(mine, false);
        this.options.sink.deliver(deliveries, origin);
        return { entry: mine, duplicate: false };
      }
    }
  }
}

/** Builds each member's entry for a committed change, with the message as it is after the change. */
async function entryMaker(
  lc: LifecycleWrites,
  record: LifecycleEntryRecord,
): Promise<(pos: number) => SyncEntry> {
  if (record.kind === 'reaction') {
    const { kind, channelId, seq, userId, emoji, added } = record;
    return (pos) => ({ pos, kind, channelId, seq, userId, emoji, added });
  }
  const stored = await lc.getMessage(record.channelId, record.seq);
  if (!stored) throw new Error(`message ${record.channelId}/${record.seq} vanished inside its transaction`);
  const message =
    stored.replyTo === undefined || stored.deletedAt !== undefined
      ? stored
      : {
          ...stored,
          replyPreview: previewOf(await lc.getMessage(record.channelId, stored.replyTo), stored.senderId),
        };
  const { kind } = record;
  return (pos) => ({ pos, kind, message });
}
