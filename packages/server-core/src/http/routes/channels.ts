import { ErrorCode, NatterError } from '@natter/protocol';
import type { HttpApiDeps } from '../deps.js';
import { json } from '../responses.js';
import type { Route } from '../router.js';
import { idParam, intParam, MarkReadSchema, OpenDirectSchema, readJson, validate } from '../validation.js';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** `/v1/channels`: the caller's channel list, direct channels, one channel, and history pages. */
export function channelRoutes(deps: HttpApiDeps): Route[] {
  const { service, config } = deps;
  return [
    {
      method: 'GET',
      path: '/v1/channels',
      auth: true,
      async handle(_ctx, principal) {
        return json(200, { channels: await service.listChannels(principal.userId) });
      },
    },
    {
      // Before `/v1/channels/:id`, which would otherwise take `direct` as an id.
      method: 'POST',
      path: '/v1/channels/direct',
      auth: true,
      async handle(ctx, principal) {
        const input = validate(OpenDirectSchema, await readJson(ctx.request, config.maxBodyBytes));
        return json(200, { channel: await service.openDirect(principal.userId, input.userId) });
      },
    },
    {
      method: 'GET',
      path: '/v1/channels/:id',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        return json(200, { channel: await service.getChannel(principal.userId, channelId) });
      },
    },
    {
      method: 'GET',
      path: '/v1/channels/:id/messages',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        const before = intParam(ctx.url, 'before', 1, MAX_SEQ);
        const after = intParam(ctx.url, 'after', 0, MAX_SEQ);
        const around = intParam(ctx.url, 'around', 1, MAX_SEQ);
        const limit = intParam(ctx.url, 'limit', 1, config.limits.maxHistoryPage);
        if ([before, after, around].filter((x) => x !== undefined).length > 1) {
          throw new NatterError(ErrorCode.BAD_REQUEST, 'at most one of before, after, around');
        }
        const page = await service.history(principal.userId, channelId, {
          ...(before !== undefined ? { before } : {}),
          ...(after !== undefined ? { after } : {}),
          ...(around !== undefined ? { around } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        return json(200, {
          messages: page.messages,
          hasMoreBefore: page.hasMoreBefore,
          hasMoreAfter: page.hasMoreAfter,
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/channels/:id/receipts',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        return json(200, { receipts: await service.receipts(principal.userId, channelId) });
      },
    },
    {
      method: 'POST',
      path: '/v1/channels/:id/read',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        const input = validate(MarkReadSchema, await readJson(ctx.request, config.maxBodyBytes));
        return json(200, await service.markRead(principal.userId, channelId, input.seq));
      },
    },
  ];
}
