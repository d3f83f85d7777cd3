import {
  type Channel,
  CloseCode,
  ErrorCode,
  type Message,
  NatterError,
  newPrefixedId,
  type ServerCreateChannelBody,
  type ServerCreateUserBody,
  type ServerPostMessageBody,
  type ServerUser,
  type Session,
} from '@natter/protocol';
import type { AccountGate } from '../accounts/account-gate.js';
import type { TokenService } from '../accounts/token-service.js';
import type { AppChat } from '../chat/app-chat.js';
import type { ChatService } from '../chat/chat-service.js';
import { toChannel, toProfile } from '../chat/to-wire.js';
import type { AccountStore, ChatStore, UserRecord } from '../ports/storage.js';

/** Dependencies of {@link ServerApiService}. */
export interface ServerApiServiceDeps {
  accounts: AccountStore;
  chat: ChatStore;
  service: ChatService;
  appChat: AppChat;
  /** natter's own token service; without it, issuing tokens answers NOT_FOUND. */
  tokens: TokenService | undefined;
  gate: AccountGate;
  /** Closes a user's sockets on this node. */
  closeSessions(userId: string, code: number, reason: string): void;
  now: () => number;
}

const userNotFound = () => new NatterError(ErrorCode.NOT_FOUND, 'user not found');

function toServerUser(user: UserRecord): ServerUser {
  return {
    ...toProfile(user),
    ...(user.deactivatedAt !== undefined ? { deactivatedAt: user.deactivatedAt } : {}),
  };
}

/**
 * What an app's backend may do through the server API, whoever the users are: manage users, channels and
 * members, post as a user or as the app, and issue tokens. The HTTP routes are thin wrappers over it; the
 * API key's scope was checked before any of it runs.
 */
export class ServerApiService {
  constructor(private readonly deps: ServerApiServiceDeps) {}

  /** Creates a user with the app's id and no password. @throws CONFLICT when the id or username is taken. */
  async createUser(input: ServerCreateUserBody): Promise<ServerUser> {
    const { accounts, now } = this.deps;
    if (await accounts.getUser(input.id)) throw new NatterError(ErrorCode.CONFLICT, 'user id is taken');
    const user: UserRecord = {
      id: input.id,
      username: input.username,
      displayName: input.displayName ?? input.username,
      passwordHash: null,
      createdAt: now(),
    };
    await accounts.createUser(user);
    return toServerUser(user);
  }

  async updateUser(userId: string, patch: { displayName: string }): Promise<ServerUser> {
    const user = await this.deps.accounts.updateUser(userId, { displayName: patch.displayName });
    if (!user) throw userNotFound();
    this.deps.gate.forget(userId);
    return toServerUser(user);
  }

  /**
   * Deactivates a user: their refresh tokens are revoked and their sockets on this node closed at once;
   * other nodes refuse their tokens within the account gate's cache time (10 s by default).
   */
  async deactivate(userId: string): Promise<ServerUser> {
    const { accounts, gate, now } = this.deps;
    const existing = await accounts.getUser(userId);
    if (!existing) throw userNotFound();
    const user =
      existing.deactivatedAt !== undefined
        ? existing
        : await accounts.updateUser(userId, { deactivatedAt: now() });
    if (!user) throw userNotFound();
    gate.forget(userId);
    await accounts.revokeRefreshTokens(userId);
    this.deps.closeSessions(userId, CloseCode.SESSION_REVOKED, 'account deactivated');
    return toServerUser(user);
  }

  async reactivate(userId: string): Promise<ServerUser> {
    const user = await this.deps.accounts.updateUser(userId, { deactivatedAt: null });
    if (!user) throw userNotFound();
    this.deps.gate.forget(userId);
    return toServerUser(user);
  }

  /** A session for a user, for apps whose clients use natter's own tokens. */
  async issueTokens(userId: string, deviceId: string | undefined): Promise<Session> {
    const { tokens, accounts, now } = this.deps;
    if (!tokens) throw new NatterError(ErrorCode.NOT_FOUND, "natter's token service is not enabled");
    const user = await accounts.getUser(userId);
    if (!user || user.deactivatedAt !== undefined) throw userNotFound();
    const device = deviceId ?? newPrefixedId('dev', now());
    return { user: toProfile(user), deviceId: device, ...(await tokens.issue(userId, device)) };
  }

  /** Creates a group owned by `ownerId`, or opens the direct channel of two users. */
  async createChannel(input: ServerCreateChannelBody): Promise<Channel> {
    const { accounts, service } = this.deps;
    if (input.kind === 'direct') {
      const [a, b] = input.userIds;
      if (!(await accounts.getUser(a))) throw userNotFound();
      return service.openDirect(a, b);
    }
    if (!(await accounts.getUser(input.ownerId))) throw userNotFound();
    return service.createGroup(input.ownerId, input.name, input.memberIds, 'app');
  }

  async addMembers(channelId: string, userIds: readonly string[]): Promise<Channel> {
    await this.deps.appChat.addMembers(channelId, userIds);
    return this.channel(channelId);
  }

  async removeMember(channelId: string, userId: string): Promise<void> {
    await this.deps.appChat.removeMember(channelId, userId);
  }

  async postMessage(channelId: string, input: ServerPostMessageBody): Promise<Message> {
    return this.deps.appChat.post({
      channelId,
      text: input.text,
      ...(input.userId !== undefined ? { userId: input.userId } : {}),
      ...(input.system !== undefined ? { system: input.system } : {}),
      ...(input.clientMsgId !== undefined ? { clientMsgId: input.clientMsgId } : {}),
      ...(input.mentions !== undefined ? { mentions: input.mentions } : {}),
    });
  }

  private async channel(channelId: string): Promise<Channel> {
    const { chat } = this.deps;
    const channel = await chat.getChannel(channelId);
    if (!channel) throw new NatterError(ErrorCode.NOT_FOUND, 'channel not found');
    return toChannel(channel, await chat.listMembers(channelId));
  }
}
