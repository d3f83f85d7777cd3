import { ErrorCode, NatterError } from '@natter/protocol';
import type { HttpApiDeps } from '../deps.js';
import { json } from '../responses.js';
import type { Route } from '../router.js';
import { idParam, MuteSchema, PushSubscriptionSchema, readJson, validate } from '../validation.js';

/** Push subscriptions and per-channel mute; absent (404) when the server has no push gateway. */
export function pushRoutes(deps: HttpApiDeps): Route[] {
  const { push, service, config } = deps;
  if (!push) return [];
  return [
    {
      method: 'GET',
      path: '/v1/push/vapid-key',
      auth: false,
      async handle() {
        const key = push.vapidPublicKey();
        if (!key) throw new NatterError(ErrorCode.NOT_FOUND, 'web push is not configured');
        return json(200, { publicKey: key });
      },
    },
    {
      method: 'POST',
      path: '/v1/push/subscriptions',
      auth: true,
      async handle(ctx, principal) {
        const input = validate(PushSubscriptionSchema, await readJson(ctx.request, config.maxBodyBytes));
        if (!principal.deviceId) throw new NatterError(ErrorCode.BAD_REQUEST, 'the token names no device');
        await push.registerSubscription(principal.userId, principal.deviceId, input);
        return new Response(null, { status: 204 });
      },
    },
    {
      method: 'DELETE',
      path: '/v1/push/subscriptions',
      auth: true,
      async handle(_ctx, principal) {
        await push.removeSubscriptions(principal.userId, principal.deviceId);
        return new Response(null, { status: 204 });
      },
    },
    {
      method: 'PUT',
      path: '/v1/channels/:id/mute',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idParam(ctx.params, 'id', 'channel');
        const input = validate(MuteSchema, await readJson(ctx.request, config.maxBodyBytes));
        await service.getChannel(principal.userId, channelId); // members only: NOT_FOUND otherwise
        await push.setMuted(principal.userId, channelId, input.muted);
        return json(200, { channelId, muted: input.muted });
      },
    },
  ];
}
