import {
  type Attachment,
  type Channel,
  type ChannelSummary,
  ErrorCode,
  type Message,
  type MessageEntry,
  NatterError,
  newId,
  type ProtocolLimits,
  type SyncEntry,
  utf8ByteLength,
} from '@natter/protocol';
import type { EncryptedChannels } from '../e2ee/encrypted-channels.js';
import type { BlockList } from '../moderation/block-list.js';
import type { DirectGuard } from '../moderation/direct-guard.js';
import { type GroupModeration, takeSlowModeTurn } from '../moderation/group-moderation.js';
import type { Delivery, DeliveryOrigin, DeliverySink, EphemeralSink } from '../ports/delivery.js';
import type { MediaClaim, MediaPlug } from '../ports/media.js';
import type {
  AccountStore,
  AppendedMessage,
  ChatStore,
  HistoryPage,
  WriteTransaction,
} from '../ports/storage.js';
import { claimAttachments } from './attachment-claim.js';
import { applyBeforeSend, type ModerationOptions } from './before-send.js';
import { ChannelMembership } from './channel-membership.js';
import { entriesWithPreviews, previewOf, withPreviews, withReactions } from './decorate.js';
import { MessageLifecycle } from './message-lifecycle.js';
import { raiseMarkers } from './read-markers.js';
import { notFound } from './require-member.js';
import { toChannel } from './to-wire.js';

/** What a `send` carries. */
export interface SendInput {
  channelId: string;
  clientMsgId: string;
  text: string;
  mentions?: readonly string[];
  /** Seq of the message this one answers, in the same channel. */
  replyTo?: number;
  /** Seq of the thread root this message is posted in. */
  threadRoot?: number;
  /** Uploads of the sender's the message carries (at most `MEDIA_LIMITS.maxAttachmentsPerMessage`). */
  attachments?: ReadonlyArray<{ mediaId: string }>;
}

/** Result of a send: the sender's sync entry, and whether it was a retry of an earlier send. */
export interface SendResult {
  entry: MessageEntry;
  duplicate: boolean;
}

/** A history request; at most one anchor. */
export interface HistoryRequest {
  before?: number;
  after?: number;
  around?: number;
  limit?: number;
  /** Page the replies of this thread root instead of the channel. */
  threadRoot?: number;
}

/** A page of a user's sync log. */
export interface SyncPage {
  epoch: string;
  entries: SyncEntry[];
  head: number;
  hasMore: boolean;
}

/** Dependencies of {@link ChatService}. */
export interface ChatServiceOptions {
  chat: ChatStore;
  accounts: AccountStore;
  limits: ProtocolLimits;
  sink: DeliverySink;
  /** Where receipts go (ephemeral frames to members' connections). */
  ephemeral?: EphemeralSink;
  /** Claims a send's uploads; without it a send with attachments is refused. */
  media?: Pick<MediaPlug, 'claim' | 'releaseMessage'>;
  /** @default Date.now */
  now?: () => number;
  /** The app's content filter and its deadline. */
  moderation?: ModerationOptions;
  /**
   * Blocks, bans and slow mode (stores with the `moderation` capability): 1-1 sends to a user who blocked
   * the sender are refused, blocked pairs are hidden from each other's typing, a banned user cannot be
   * added, slow mode holds members to their turn.
   */
  rules?: { blocks: BlockList; direct: DirectGuard; groups: GroupModeration };
  /**
   * End-to-end encrypted channels (stores with the `moderation` capability's keyed rows): plaintext sends
   * to them are refused, and channel shapes carry `encrypted` and `mlsEpoch`.
   */
  encryption?: EncryptedChannels;
}

/** How long a sender waits before sending again when its own sync log could not take the entry yet. */
const OWN_LOG_RETRY_AFTER_MS = 1_000;

/**
 * A stored send whose sender has no position yet: a store that fans entries out after the commit (the
 * sharded store) leaves out the users whose log server is unreachable. The message is stored and
 * delivered to the others, but without the sender's position there is no ack to give: leaving the
 * send unanswered would stall the client's outbox until it reconnects. It gets the retryable
 * `NATTER_UNAVAILABLE`; the same `clientMsgId` sent again answers the original message with its
 * position once the sender's log is reachable (the duplicate path), and never stores it twice.
 */
function ownPositionKnown(result: SendResult & { ownPosition: boolean }): SendResult {
  if (!result.ownPosition) {
    throw new NatterError(
      ErrorCode.UNAVAILABLE,
      'the message is stored but your sync log is unreachable now; send it again with the same clientMsgId',
      OWN_LOG_RETRY_AFTER_MS,
    );
  }
  return { entry: result.entry, duplicate: result.duplicate };
}

/**
 * The chat domain: channels, membership, messages, history and sync. Transport-neutral; the WebSocket
 * session and the HTTP API both call it. Every rule that must hold atomically with a write (membership,
 * the group limit, idempotency) runs inside the store's transaction.
 */
export class ChatService {
  private readonly now: () => number;
  /** Edits, deletes and reactions. */
  readonly lifecycle: MessageLifecycle;
  /** Channels made and their members changed. */
  private readonly membership: ChannelMembership;

  constructor(private readonly options: ChatServiceOptions) {
    this.now = options.now ?? Date.now;
    this.lifecycle = new MessageLifecycle({
      chat: options.chat,
      limits: options.limits,
      sink: options.sink,
      now: this.now,
      media: options.media,
    });
    this.membership = new ChannelMembership({
      options,
      now: this.now,
      dispatch: (appended) => this.dispatch(appended),
      present: (channel) => this.withEncryption(channel),
      getChannel: (userId, channelId) => this.getChannel(userId, channelId),
    });
  }

  /**
   * Appends a message. A retry with the same `clientMsgId` returns the original entry. Attachments are
   * claimed before the write (the sender's own uploads, each carried by one message) and given back when
   * nothing was stored.
   */
  async sendMessage(userId: string, given: SendInput, origin?: DeliveryOrigin): Promise<SendResult> {
    const { limits, moderation, rules } = this.options;
    if (utf8ByteLength(given.text) > limits.maxMessageBytes) {
      throw new NatterError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `message text exceeds ${limits.maxMessageBytes} bytes`,
      );
    }
    const direct = (await rules?.direct.checkSend(userId, given.channelId)) ?? false;
    // Before the content filter: the server must not read plaintext meant for an encrypted channel.
    if (await this.options.encryption?.isEncrypted(given.channelId))
      throw new NatterError(
        ErrorCode.E2EE_CHANNEL_MISMATCH,
        'the channel is end-to-end encrypted: send MLS ciphertext (POST /v1/channels/{id}/encrypted)',
      );
    // The app's filter runs before anything is stored; a retry with the same clientMsgId runs it again
    // (its verdict should be deterministic), and still returns the original if that was stored.
    const input = moderation?.beforeSend
      ? {
          ...given,
          text: await applyBeforeSend(
            moderation.beforeSend,
            {
              userId,
              channelId: given.channelId,
              text: given.text,
              mentions: given.mentions ?? [],
              clientMsgId: given.clientMsgId,
            },
            moderation.beforeSendTimeoutMs ?? 1_000,
            limits.maxMessageBytes,
          ),
        }
      : given;
    const claim = await claimAttachments(
      this.options.media,
      userId,
      input.channelId,
      input.clientMsgId,
      input.attachments ?? [],
    );
    if (!claim) return ownPositionKnown(await this.store(userId, input, undefined, origin, direct));
    let result: SendResult & { ownPosition: boolean };
    try {
      result = await this.store(userId, input, claim, origin, direct);
    } catch (error) {
      await claim.cancel();
      throw error;
    }
    // A retry answers the original message: its seq is the one the uploads belong to.
    await claim.commit(result.entry.message.seq);
    return ownPositionKnown(result);
  }

  private async store(
    userId: string,
    input: SendInput,
    claim: MediaClaim | undefined,
    origin: DeliveryOrigin | undefined,
    /** The channel is a 1-1 channel (known to the direct guard): those have no slow mode to look up. */
    direct: boolean,
  ): Promise<SendResult & { ownPosition: boolean }> {
    const { chat } = this.options;
    const attachments = claim && claim.attachments.length > 0 ? { attachments: claim.attachments } : {};
    // The setting comes from a cache of a few seconds; the turn itself is taken inside the transaction.
    const slow = !direct && ((await this.options.rules?.groups.slowModeSeconds(input.channelId)) ?? 0) > 0;
    const outcome = await chat.write(
      async (tx) => {
        const referring = input.replyTo !== undefined || input.threadRoot !== undefined;
        // The one-step send knows no references nor slow mode: those sends take the general path.
        if (tx.appendChecked && !referring && !slow) return this.sendChecked(tx, userId, input, attachments);
        const earlier = await tx.findByClientMsgId(userId, input.clientMsgId);
        if (earlier) return { duplicate: true as const, message: earlier.message, pos: earlier.senderPos };
        // One read serves both the membership check and the recipients: a channel has members only
        // while it exists, and a stranger gets the same NOT_FOUND as for a channel that does not.
        const members = await tx.listMembers(input.channelId);
        const memberIds = new Set(members.map((m) => m.userId));
        if (!memberIds.has(userId)) throw notFound();
        // Mentions of non-members are dropped, so a mention cannot probe who exists.
        const mentions = [...new Set(input.mentions ?? [])].filter((id) => memberIds.has(id));
        const me = members.find((m) => m.userId === userId)!;
        if (slow) await takeSlowModeTurn(tx, me, this.now());
        const parent = referring ? await this.checkReferences(tx, input, me) : undefined;
        const appended = await tx.appendMessage(
          {
            id: newId(this.now()),
            channelId: input.channelId,
            senderId: userId,
            clientMsgId: input.clientMsgId,
            kind: 'text',
            text: input.text,
            mentions,
            system: null,
            createdAt: this.now(),
            ...(input.replyTo !== undefined ? { replyTo: input.replyTo } : {}),
            ...(input.threadRoot !== undefined ? { threadRoot: input.threadRoot } : {}),
            ...attachments,
          },
          members.map((m) => m.userId),
        );
        if (input.threadRoot !== undefined) {
          const { createdAt, seq } = appended.message;
          await tx.lifecycle!.countThreadReply(input.channelId, input.threadRoot, createdAt, seq);
        }
        if (input.replyTo !== undefined) {
          appended.message = { ...appended.message, replyPreview: previewOf(parent, userId) };
        }
        return { duplicate: false as const, appended };
      },
      // The one-step path below does nothing but its appendChecked when the store offers it.
      {
        channelId: input.channelId,
        appendOnly:
          input.replyTo === undefined &&
          input.threadRoot === undefined &&
          !slow &&
          attachments.attachments === undefined,
      },
    );
    if (outcome.duplicate) {
      const entry: MessageEntry = { pos: outcome.pos, kind: 'message', message: outcome.message };
      origin?.onAck(entry, true);
      return { entry, duplicate: true, ownPosition: true };
    }
    const senderEntry = this.dispatch(outcome.appended, userId, origin);
    const ownPosition = outcome.appended.positions.some((p) => p.userId === userId);
    return { entry: senderEntry, duplicate: false, ownPosition };
  }

  /**
   * Checks `replyTo` and `threadRoot` of a send: each must name a message of the channel the sender can
   * see; a reply to a deleted message is refused, a thread root must be a text message outside any thread.
   * Returns the parent of `replyTo`.
   */
  private async checkReferences(
    tx: WriteTransaction,
    input: SendInput,
    me: { joinedSeq: number },
  ): Promise<Message | undefined> {
    const lc = tx.lifecycle;
    if (!lc) throw new NatterError(ErrorCode.BAD_REFERENCE, 'this store keeps no replies or threads');
    const visible = async (seq: number) => {
      const message = seq >= me.joinedSeq ? await lc.getMessage(input.channelId, seq) : undefined;
      if (!message) throw new NatterError(ErrorCode.BAD_REFERENCE, `no message ${seq} in this channel`);
      return message;
    };
    let parent: Message | undefined;
    if (input.replyTo !== undefined) {
      parent = await visible(input.replyTo);
      if (parent.deletedAt !== undefined)
        throw new NatterError(ErrorCode.MESSAGE_DELETED, 'the message replied to was deleted');
    }
    if (input.threadRoot !== undefined) {
      const root = await visible(input.threadRoot);
      if (root.kind !== 'text' || root.threadRoot !== undefined)
        throw new NatterError(ErrorCode.BAD_REFERENCE, 'a thread root is a text message outside any thread');
      if (root.deletedAt !== undefined)
        throw new NatterError(ErrorCode.MESSAGE_DELETED, 'the thread root was deleted');
    }
    return parent;
  }

  /**
   * The send on a store that checks it in one step (`WriteTransaction.appendChecked`): the same rules as
   * `sendMessage`'s own path (idempotency, then membership, mentions kept for members only), same outcome.
   */
  private async sendChecked(
    tx: WriteTransaction,
    userId: string,
    input: SendInput,
    attachments: { attachments?: Attachment[] },
  ) {
    const result = await tx.appendChecked!({
      id: newId(this.now()),
      channelId: input.channelId,
      senderId: userId,
      clientMsgId: input.clientMsgId,
      text: input.text,
      mentions: [...new Set(input.mentions ?? [])],
      createdAt: this.now(),
      ...attachments,
    });
    if (result.kind === 'notMember') throw notFound();
    if (result.kind === 'duplicate') {
      return { duplicate: true as const, message: result.message, pos: result.senderPos };
    }
    return { duplicate: false as const, appended: result.appended };
  }

  /**
   * Opens (creating on first use) the direct channel between the caller and `peerId`; with `encrypted` the
   * pair's end-to-end encrypted one, a channel of its own beside the plaintext one.
   */
  openDirect(userId: string, peerId: string, encrypted = false): Promise<Channel> {
    return this.membership.openDirect(userId, peerId, encrypted);
  }

  /** Creates a group with the caller as admin. At most `maxGroupMembers` members, the caller included. */
  createGroup(
    userId: string,
    name: string,
    memberIds: readonly string[],
    by: 'user' | 'app' = 'user',
    encrypted = false,
  ): Promise<Channel> {
    return this.membership.createGroup(userId, name, memberIds, by, encrypted);
  }

  /** Adds members to a group; any member may add. Already-present users are ignored. */
  addMembers(userId: string, channelId: string, memberIds: readonly string[]): Promise<Channel> {
    return this.membership.addMembers(userId, channelId, memberIds);
  }

  /** Removes a member from a group (admins only), or leaves it (`memberId === userId`). */
  removeMember(userId: string, channelId: string, memberId: string): Promise<void> {
    return this.membership.removeMember(userId, channelId, memberId);
  }

  /** Renames a group; any member may. */
  renameGroup(userId: string, channelId: string, name: string): Promise<Channel> {
    return this.membership.renameGroup(userId, channelId, name);
  }

  /**
   * Raises the caller's read marker (never lowers it; clamped to the channel's last seq) and tells the
   * caller's other devices and the other members. Returns the marker and the remaining unread count.
   */
  async markRead(
    userId: string,
    channelId: string,
    seq: number,
  ): Promise<{ readSeq: number; unread: number }> {
    const { chat } = this.options;
    const result = await raiseMarkers(this.options, userId, channelId, seq, true);
    return { readSeq: result.readSeq, unread: await chat.countUnread(channelId, userId, result.readSeq) };
  }

  /** Raises the caller's delivery marker: a device of theirs has stored the channel up to `seq`. */
  async markDelivered(userId: string, channelId: string, seq: number): Promise<void> {
    await raiseMarkers(this.options, userId, channelId, seq, false);
  }

  /** Who sees the caller typing in a channel: the other members, less anyone blocked either way. */
  async typingAudience(userId: string, channelId: string): Promise<string[]> {
    const memberIds = await this.memberIdsFor(userId, channelId);
    const hidden = (await this.options.rules?.blocks.hiddenFrom(userId)) ?? new Set<string>();
    return memberIds.filter((id) => id !== userId && !hidden.has(id));
  }

  /** Ids of a channel's members, for a member; NOT_FOUND otherwise. */
  async memberIdsFor(userId: string, channelId: string): Promise<string[]> {
    const { chat } = this.options;
    const members = await chat.listMembers(channelId);
    if (!members.some((m) => m.userId === userId)) throw notFound();
    return members.map((m) => m.userId);
  }

  /** Messages that @-mention the caller, newest first; `beforeId` pages. */
  async mentions(
    userId: string,
    request: { limit?: number; beforeId?: string; channelId?: string },
  ): Promise<Message[]> {
    const limit = Math.min(request.limit ?? 50, this.options.limits.maxHistoryPage);
    return this.options.chat.mentionsOf({ userId, limit, ...optional(request) });
  }

  /** Full-text search over the caller's channels, newest first. NOT_FOUND when the store cannot search. */
  async search(
    userId: string,
    text: string,
    request: { limit?: number; beforeId?: string; channelId?: string },
  ): Promise<Message[]> {
    const { chat, limits } = this.options;
    if (!chat.searchMessages)
      throw new NatterError(ErrorCode.NOT_FOUND, 'search is not available on this store');
    const limit = Math.min(request.limit ?? 50, limits.maxHistoryPage);
    return chat.searchMessages({ userId, text, limit, ...optional(request) });
  }

  /** Members of a channel the caller belongs to, with their markers (for "read by N"). */
  async receipts(
    userId: string,
    channelId: string,
  ): Promise<Array<{ userId: string; readSeq: number; deliveredSeq: number }>> {
    const { chat } = this.options;
    const members = await chat.listMembers(channelId);
    if (!members.some((m) => m.userId === userId)) throw notFound();
    return members.map((m) => ({ userId: m.userId, readSeq: m.readSeq, deliveredSeq: m.deliveredSeq }));
  }

  /** A channel the caller belongs to; NOT_FOUND otherwise (same answer as for a channel that does not exist). */
  async getChannel(userId: string, channelId: string): Promise<Channel> {
    const { chat } = this.options;
    const [channel, member] = await Promise.all([
      chat.getChannel(channelId),
      chat.getMember(channelId, userId),
    ]);
    if (!channel || !member) throw notFound();
    return this.withEncryption(
      await this.withSlowMode(toChannel(channel, await chat.listMembers(channelId))),
    );
  }

  /** Adds `encrypted` and `mlsEpoch` to an encrypted channel. */
  private async withEncryption<C extends Channel>(channel: C): Promise<C> {
    const epoch = await this.options.encryption?.epochOf(channel.id);
    return epoch === undefined ? channel : { ...channel, encrypted: true, mlsEpoch: epoch };
  }

  /** Adds `slowModeSeconds` to a group in slow mode. */
  private async withSlowMode<C extends Channel>(channel: C): Promise<C> {
    const groups = this.options.rules?.groups;
    if (!groups || channel.kind !== 'group') return channel;
    const seconds = await groups.slowModeSeconds(channel.id);
    return seconds > 0 ? { ...channel, slowModeSeconds: seconds } : channel;
  }

  /** The caller's channels with last message and unread count, newest activity first. */
  async listChannels(userId: string): Promise<ChannelSummary[]> {
    const { chat } = this.options;
    const rows = await chat.listChannelsOf(userId);
    return Promise.all(
      rows.map(async ({ channel, member }) => {
        const [members, lastMessage, unread] = await Promise.all([
          chat.listMembers(channel.id),
          channel.lastSeq > 0 ? chat.getMessage(channel.id, channel.lastSeq) : Promise.resolve(undefined),
          chat.countUnread(channel.id, userId, Math.max(member.readSeq, member.joinedSeq - 1)),
        ]);
        return {
          ...(await this.withEncryption(await this.withSlowMode(toChannel(channel, members)))),
          lastSeq: channel.lastSeq,
          lastMessage: lastMessage ?? null,
          readSeq: member.readSeq,
          unread,
        };
      }),
    );
  }

  /** A page of a channel's history, limited to what the caller may see (from when they joined). */
  async history(userId: string, channelId: string, request: HistoryRequest): Promise<HistoryPage> {
    const { chat, limits } = this.options;
    const member = await chat.getMember(channelId, userId);
    if (!member) throw notFound();
    const limit = Math.min(request.limit ?? 50, limits.maxHistoryPage);
    const query = { ...pickAnchor(request), limit, minSeq: member.joinedSeq };
    let page: HistoryPage;
    if (request.threadRoot !== undefined) {
      if (!chat.lifecycle) throw new NatterError(ErrorCode.NOT_FOUND, 'this store keeps no threads');
      if (request.threadRoot < member.joinedSeq)
        throw new NatterError(ErrorCode.NOT_FOUND, 'message not found');
      page = await chat.lifecycle.readThread(channelId, request.threadRoot, query);
    } else {
      page = await chat.readHistory(channelId, query);
    }
    const messages = await withReactions(chat, channelId, await withPreviews(chat, page.messages), userId);
    return { ...page, messages };
  }

  /**
   * Entries of the caller's sync log after `after`. A cursor from another epoch, or ahead of the log,
   * gets RESYNC_REQUIRED: never a silent partial replay.
   */
  async sync(userId: string, epoch: string | undefined, after: number, limit?: number): Promise<SyncPage> {
    const { chat, limits } = this.options;
    const current = chat.epoch();
    if ((epoch !== undefined && epoch !== current) || (epoch === undefined && after !== 0)) {
      throw new NatterError(ErrorCode.RESYNC_REQUIRED, 'cursor belongs to another log epoch');
    }
    const pageSize = Math.min(limit ?? limits.maxSyncPage, limits.maxSyncPage);
    const head = await chat.syncHead(userId);
    if (after > head) throw new NatterError(ErrorCode.RESYNC_REQUIRED, 'cursor is ahead of the log');
    const entries = await entriesWithPreviews(chat, await chat.readSync(userId, after, pageSize));
    const last = entries.at(-1)?.pos ?? after;
    return { epoch: current, entries, head: Math.max(head, last), hasMore: last < head };
  }

  /** Sends committed entries to live delivery, in commit order, and returns the sender's entry. */
  private dispatch(appended: AppendedMessage, senderId?: string, origin?: DeliveryOrigin): MessageEntry {
    let senderEntry: MessageEntry | undefined;
    const deliveries: Delivery[] = [];
    for (const { userId, pos } of appended.positions) {
      const entry: MessageEntry = { pos, kind: 'message', message: appended.message };
      if (userId === senderId) senderEntry = entry;
      deliveries.push({ userId, entry });
    }
    if (senderEntry && origin) origin.onAck(senderEntry, false);
    this.options.sink.deliver(deliveries, origin);
    return senderEntry ?? { pos: 0, kind: 'message', message: appended.message };
  }
}

function optional(request: { beforeId?: string; channelId?: string }): {
  beforeId?: string;
  channelId?: string;
} {
  return {
    ...(request.beforeId !== undefined ? { beforeId: request.beforeId } : {}),
    ...(request.channelId !== undefined ? { channelId: request.channelId } : {}),
  };
}

function pickAnchor(request: HistoryRequest): { before?: number; after?: number; around?: number } {
  if (request.before !== undefined) return { before: request.before };
  if (request.after !== undefined) return { after: request.after };
  if (request.around !== undefined) return { around: request.around };
  return {};
}
