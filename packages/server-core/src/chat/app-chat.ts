import {
  ErrorCode,
  type Message,
  NatterError,
  newId,
  type ProtocolLimits,
  type SyncEntry,
  type SystemEvent,
  utf8ByteLength,
} from '@natter/protocol';
import type { Delivery, DeliverySink } from '../ports/delivery.js';
import type {
  AccountStore,
  AppendedMessage,
  ChatStore,
  MemberRecord,
  NewMessage,
  WriteTransaction,
} from '../ports/storage.js';

/** Dependencies of {@link AppChat}. */
export interface AppChatOptions {
  chat: ChatStore;
  accounts: AccountStore;
  limits: ProtocolLimits;
  sink: DeliverySink;
  /** The actor id of changes made as the app. */
  appUserId: string;
  now: () => number;
  /** End-to-end encrypted channels: the app cannot post plaintext into them (it holds no group key). */
  encryption?: { isEncrypted(channelId: string): Promise<boolean> };
}

/** What {@link AppChat.post} stores. */
export interface AppPost {
  channelId: string;
  text: string;
  /** The sender: a member, or the app when absent. */
  userId?: string;
  /** A system notice instead of a text message. */
  system?: boolean;
  clientMsgId?: string;
  mentions?: readonly string[];
}

const channelNotFound = () => new NatterError(ErrorCode.NOT_FOUND, 'channel not found');

/**
 * Chat changes an app's backend makes through the server API, where no member's permission applies: add
 * and remove group members and post messages or notices as the app (or as a member). The same rules as
 * ChatService run inside the store's transaction (the group limit, idempotency, the last admin's heir), and
 * the same live delivery follows the commit.
 */
export class AppChat {
  constructor(private readonly options: AppChatOptions) {}

  /** Adds users to a group as the app; present members are ignored. */
  async addMembers(channelId: string, userIds: readonly string[]): Promise<void> {
    const { chat, accounts, limits, appUserId, now } = this.options;
    const wanted = [...new Set(userIds)];
    const found = await accounts.getUsers(wanted);
    if (found.length !== wanted.length) throw new NatterError(ErrorCode.NOT_FOUND, 'user not found');
    const appended = await chat.write(
      async (tx) => {
        const channel = await this.requireGroup(tx, channelId);
        const members = await tx.listMembers(channelId);
        const present = new Set(members.map((m) => m.userId));
        const added = wanted.filter((id) => !present.has(id));
        if (added.length === 0) return undefined;
        if (members.length + added.length > limits.maxGroupMembers) {
          throw new NatterError(
            ErrorCode.GROUP_FULL,
            `a group holds at most ${limits.maxGroupMembers} members`,
          );
        }
        for (const userId of added) {
          await tx.upsertMember({
            channelId,
            userId,
            role: 'member',
            joinedAt: now(),
            joinedSeq: channel.lastSeq + 1,
            readSeq: 0,
            deliveredSeq: 0,
          });
        }
        const event: SystemEvent = { action: 'members_added', actorId: appUserId, memberIds: added };
        return tx.appendMessage(this.message(channelId, appUserId, event, ''), [...present, ...added]);
      },
      { channelId },
    );
    if (appended) this.dispatch(appended);
  }

  /** Removes a user from a group as the app; the longest-standing member inherits the last admin's role. */
  async removeMember(channelId: string, userId: string): Promise<void> {
    const { chat, appUserId } = this.options;
    const appended = await chat.write(
      async (tx) => {
        await this.requireGroup(tx, channelId);
        const members = await tx.listMembers(channelId);
        const target = members.find((m) => m.userId === userId);
        if (!target) throw new NatterError(ErrorCode.NOT_FOUND, 'member not found');
        const event: SystemEvent = { action: 'member_removed', actorId: appUserId, memberId: userId };
        // The removed member gets the event too, so all their devices learn they were removed.
        const result = await tx.appendMessage(
          this.message(channelId, appUserId, event, ''),
          members.map((m) => m.userId),
        );
        await tx.deleteMember(channelId, userId);
        const heir = heirOf(target, members);
        if (heir) await tx.upsertMember({ ...heir, role: 'admin' });
        return result;
      },
      { channelId },
    );
    this.dispatch(appended);
  }

  /**
   * Posts a text message or a notice, as a member (`userId`) or as the app. A retry with the same
   * `clientMsgId` returns the first message.
   */
  async post(input: AppPost): Promise<Message> {
    const { chat, limits, appUserId } = this.options;
    if (utf8ByteLength(input.text) > limits.maxMessageBytes) {
      throw new NatterError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `message text exceeds ${limits.maxMessageBytes} bytes`,
      );
    }
    // Plaintext in an encrypted channel would be stored in clear and shown as if end-to-end encrypted.
    if (await this.options.encryption?.isEncrypted(input.channelId))
      throw new NatterError(
        ErrorCode.E2EE_CHANNEL_MISMATCH,
        'the channel is end-to-end encrypted: the app cannot post into it',
      );
    const senderId = input.userId ?? appUserId;
    const clientMsgId = input.clientMsgId ?? null;
    const outcome = await chat.write(
      async (tx) => {
        if (clientMsgId !== null) {
          const earlier = await tx.findByClientMsgId(senderId, clientMsgId);
          if (earlier) return { message: earlier.message, appended: undefined };
        }
        const members = await tx.listMembers(input.channelId);
        if (members.length === 0) throw channelNotFound();
        const memberIds = new Set(members.map((m) => m.userId));
        if (input.userId !== undefined && !memberIds.has(input.userId)) {
          throw new NatterError(ErrorCode.NOT_FOUND, 'the user is not a member of the channel');
        }
        const system: SystemEvent | null = input.system ? { action: 'notice', actorId: senderId } : null;
        const message: NewMessage = {
          ...this.message(input.channelId, senderId, system, input.text),
          clientMsgId,
          kind: system ? 'system' : 'text',
          mentions: system ? [] : [...new Set(input.mentions ?? [])].filter((id) => memberIds.has(id)),
        };
        const appended = await tx.appendMessage(
          message,
          members.map((m) => m.userId),
        );
        return { message: appended.message, appended };
      },
      { channelId: input.channelId },
    );
    if (outcome.appended) this.dispatch(outcome.appended);
    return outcome.message;
  }

  private async requireGroup(tx: WriteTransaction, channelId: string) {
    const channel = await tx.getChannel(channelId);
    if (!channel) throw channelNotFound();
    if (channel.kind !== 'group')
      throw new NatterError(ErrorCode.FORBIDDEN, 'direct channels have fixed members');
    return channel;
  }

  private message(channelId: string, senderId: string, system: SystemEvent | null, text: string): NewMessage {
    const at = this.options.now();
    return {
      id: newId(at),
      channelId,
      senderId,
      clientMsgId: null,
      kind: 'system',
      text,
      mentions: [],
      system,
      createdAt: at,
    };
  }

  private dispatch(appended: AppendedMessage): void {
    const deliveries: Delivery[] = appended.positions.map(({ userId, pos }) => {
      const entry: SyncEntry = { pos, kind: 'message', message: appended.message };
      return { userId, entry };
    });
    this.options.sink.deliver(deliveries);
  }
}

/** A group never loses its last admin: when it goes, the longest-standing remaining member takes over. */
function heirOf(leaving: MemberRecord, members: readonly MemberRecord[]): MemberRecord | undefined {
  if (leaving.role !== 'admin') return undefined;
  const rest = members.filter((m) => m.userId !== leaving.userId);
  if (rest.length === 0 || rest.some((m) => m.role === 'admin')) return undefined;
  return [...rest].sort((a, b) => a.joinedSeq - b.joinedSeq || a.joinedAt - b.joinedAt)[0];
}
