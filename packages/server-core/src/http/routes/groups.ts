import type { HttpApiDeps } from '../deps.js';
import { json, noContent } from '../responses.js';
import type { Route } from '../router.js';
import {
  AddMembersSchema,
  CreateGroupSchema,
  idParam,
  RenameGroupSchema,
  readJson,
  validate,
} from '../validation.js';

/** `/v1/groups`: create, rename, add and remove members, leave. The rules live in ChatService. */
export function groupRoutes(deps: HttpApiDeps): Route[] {
  const { service, config } = deps;
  const body = (request: Request) => readJson(request, config.maxBodyBytes);
  return [
    {
      method: 'POST',
      path: '/v1/groups',
      auth: true,
      async handle(ctx, principal) {
        const input = validate(CreateGroupSchema, await body(ctx.request));
        return json(201, {
          channel: await service.createGroup(principal.userId, input.name, input.memberIds),
        });
      },
    },
    {
      method: 'PATCH',
      path: '/v1/groups/:id',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        const input = validate(RenameGroupSchema, await body(ctx.request));
        return json(200, { channel: await service.renameGroup(principal.userId, channelId, input.name) });
      },
    },
    {
      method: 'POST',
      path: '/v1/groups/:id/members',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        const input = validate(AddMembersSchema, await body(ctx.request));
        return json(200, { channel: await service.addMembers(principal.userId, channelId, input.userIds) });
      },
    },
    {
      method: 'DELETE',
      path: '/v1/groups/:id/members/:userId',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        const memberId = idParam(ctx.params, 'userId', 'member');
        await service.removeMember(principal.userId, channelId, memberId);
        return noContent();
      },
    },
    {
      method: 'POST',
      path: '/v1/groups/:id/leave',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        await service.removeMember(principal.userId, channelId, principal.userId);
        return noContent();
      },
    },
  ];
}
