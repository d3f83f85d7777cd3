import type { ChatService } from '../../chat/chat-service.js';
import type { GroupModeration } from '../../moderation/group-moderation.js';
import type { UserModeration } from '../../moderation/user-moderation.js';
import type { RouteHandlers } from '../router.js';

/** The moderation parts the HTTP API serves; mounted only when the store keeps moderation rows. */
export interface ModerationParts {
  users: UserModeration;
  groups: GroupModeration;
}

/** Blocks and reports (any user), bans and slow mode (group admins): thin wrappers over the domain. */
export function moderationHandlers(parts: ModerationParts, service: ChatService): RouteHandlers {
  const { users, groups } = parts;
  return {
    listBlocks: async ({ principal }) => ({ blocks: await users.listBlocks(principal.userId) }),
    blockUser: async ({ principal, params }) => {
      await users.block(principal.userId, params.userId!);
      return undefined;
    },
    unblockUser: async ({ principal, params }) => {
      await users.unblock(principal.userId, params.userId!);
      return undefined;
    },
    report: async ({ principal, body }) => ({ report: await users.report(principal.userId, body) }),
    listBans: async ({ principal, params }) => ({
      bans: await groups.listBans(principal.userId, params.id!),
    }),
    banMember: async ({ principal, params }) => {
      await groups.ban(principal.userId, params.id!, params.userId!);
      return undefined;
    },
    unbanMember: async ({ principal, params }) => {
      await groups.unban(principal.userId, params.id!, params.userId!);
      return undefined;
    },
    setSlowMode: async ({ principal, params, body }) => {
      await groups.setSlowMode(principal.userId, params.id!, body.seconds);
      return { channel: await service.getChannel(principal.userId, params.id!) };
    },
  };
}

/** The app backend's review of reports (server API). */
export function serverModerationHandlers(users: UserModeration): RouteHandlers {
  return {
    serverListReports: async ({ query }) =>
      users.listReports({
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.after !== undefined ? { after: query.after } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      }),
    serverResolveReport: async ({ params, body }) => ({
      report: await users.resolveReport(params.id!, {
        outcome: body.outcome,
        ...(body.note !== undefined ? { note: body.note } : {}),
      }),
    }),
  };
}
