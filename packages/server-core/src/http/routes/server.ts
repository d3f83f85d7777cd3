import { ErrorCode, NatterError } from '@natter/protocol';
import type { EventSink } from '../../ports/events.js';
import type { ServerApiService } from '../../server-api/server-api-service.js';
import type { RouteHandlers } from '../router.js';

/**
 * `/v1/server/...`: the server API for app backends, thin wrappers over {@link ServerApiService}. Mounted
 * only when API keys are configured; the key and its scope are checked before a handler runs.
 */
export function serverHandlers(api: ServerApiService, events: EventSink | undefined): RouteHandlers {
  return {
    serverCreateUser: async ({ body }) => ({ user: await api.createUser(body) }),
    serverUpdateUser: async ({ params, body }) => ({ user: await api.updateUser(params.id!, body) }),
    serverDeactivateUser: async ({ params }) => ({ user: await api.deactivate(params.id!) }),
    serverReactivateUser: async ({ params }) => ({ user: await api.reactivate(params.id!) }),
    serverIssueTokens: async ({ params, body }) => api.issueTokens(params.id!, body.deviceId),
    serverCreateChannel: async ({ body }) => ({ channel: await api.createChannel(body) }),
    serverAddMembers: async ({ params, body }) => ({
      channel: await api.addMembers(params.id!, body.userIds),
    }),
    serverRemoveMember: async ({ params }) => {
      await api.removeMember(params.id!, params.userId!);
      return undefined;
    },
    serverPostMessage: async ({ params, body }) => ({ message: await api.postMessage(params.id!, body) }),
    serverEvents: async ({ query }) => {
      if (!events?.list) throw new NatterError(ErrorCode.NOT_FOUND, 'event webhooks are not configured');
      return events.list(query.after, query.limit ?? 100);
    },
  };
}
