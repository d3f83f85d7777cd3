import { ErrorCode, NatterError, type ProtocolLimits } from '@natter/protocol';
import type { ChatService } from '../../chat/chat-service.js';
import type { PresenceService } from '../../presence/presence-service.js';
import type { RouteHandlers } from '../router.js';

/** A page size larger than the server's configured maximum is a 400, as for any out-of-range value. */
function pageLimit(limit: number | undefined, max: number): number | undefined {
  if (limit !== undefined && limit > max) {
    throw new NatterError(ErrorCode.BAD_REQUEST, `limit must be between 1 and ${max}`);
  }
  return limit;
}

function paging(query: { limit?: number; beforeId?: string; channelId?: string }, max: number) {
  const limit = pageLimit(query.limit, max);
  return {
    ...(limit !== undefined ? { limit } : {}),
    ...(query.beforeId !== undefined ? { beforeId: query.beforeId } : {}),
    ...(query.channelId !== undefined ? { channelId: query.channelId } : {}),
  };
}

/** Channels, groups, history, receipts, mentions, search and presence: thin wrappers over the chat domain. */
export function chatHandlers(
  service: ChatService,
  presence: PresenceService,
  limits: ProtocolLimits,
): RouteHandlers {
  return {
    listChannels: async ({ principal }) => ({ channels: await service.listChannels(principal.userId) }),
    openDirect: async ({ principal, body }) => ({
      channel: await service.openDirect(principal.userId, body.userId, body.encrypted === true),
    }),
    getChannel: async ({ principal, params }) => ({
      channel: await service.getChannel(principal.userId, params.id!),
    }),
    history: async ({ principal, params, query }) => {
      const limit = pageLimit(query.limit, limits.maxHistoryPage);
      const page = await service.history(principal.userId, params.id!, {
        ...(query.before !== undefined ? { before: query.before } : {}),
        ...(query.after !== undefined ? { after: query.after } : {}),
        ...(query.around !== undefined ? { around: query.around } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      return { messages: page.messages, hasMoreBefore: page.hasMoreBefore, hasMoreAfter: page.hasMoreAfter };
    },
    receipts: async ({ principal, params }) => ({
      receipts: await service.receipts(principal.userId, params.id!),
    }),
    markRead: async ({ principal, params, body }) => service.markRead(principal.userId, params.id!, body.seq),
    createGroup: async ({ principal, body }) => ({
      channel: await service.createGroup(
        principal.userId,
        body.name,
        body.memberIds,
        'user',
        body.encrypted === true,
      ),
    }),
    renameGroup: async ({ principal, params, body }) => ({
      channel: await service.renameGroup(principal.userId, params.id!, body.name),
    }),
    addMembers: async ({ principal, params, body }) => ({
      channel: await service.addMembers(principal.userId, params.id!, body.userIds),
    }),
    removeMember: async ({ principal, params }) => {
      await service.removeMember(principal.userId, params.id!, params.userId!);
      return undefined;
    },
    leaveGroup: async ({ principal, params }) => {
      await service.removeMember(principal.userId, params.id!, principal.userId);
      return undefined;
    },
    mentions: async ({ principal, query }) => ({
      messages: await service.mentions(principal.userId, paging(query, limits.maxHistoryPage)),
    }),
    search: async ({ principal, query }) => ({
      messages: await service.search(principal.userId, query.q, paging(query, limits.maxHistoryPage)),
    }),
    presence: async ({ principal, query }) => ({
      users: await presence.query(principal.userId, {
        ...(query.channelId !== undefined ? { channelId: query.channelId } : {}),
        ...(query.userIds !== undefined ? { userIds: query.userIds } : {}),
      }),
    }),
  };
}
