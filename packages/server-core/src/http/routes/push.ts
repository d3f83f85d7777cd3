import { ErrorCode, NatterError } from '@natter/protocol';
import type { ChatService } from '../../chat/chat-service.js';
import type { PushGateway } from '../../ports/push.js';
import type { RouteHandlers } from '../router.js';

/** Push subscriptions and per-channel mute; not mounted (404) when the server has no push gateway. */
export function pushHandlers(push: PushGateway, service: ChatService): RouteHandlers {
  return {
    vapidKey: async () => {
      const key = push.vapidPublicKey();
      if (!key) throw new NatterError(ErrorCode.NOT_FOUND, 'web push is not configured');
      return { publicKey: key };
    },
    registerPush: async ({ principal, body }) => {
      if (!principal.deviceId) throw new NatterError(ErrorCode.BAD_REQUEST, 'the token names no device');
      await push.registerSubscription(principal.userId, principal.deviceId, body);
      return undefined;
    },
    removePush: async ({ principal }) => {
      await push.removeSubscriptions(principal.userId, principal.deviceId);
      return undefined;
    },
    setMuted: async ({ principal, params, body }) => {
      const channelId = params.id!;
      await service.getChannel(principal.userId, channelId); // members only: NOT_FOUND otherwise
      await push.setMuted(principal.userId, channelId, body.muted);
      return { channelId, muted: body.muted };
    },
  };
}
