import { ErrorCode, NatterError, PING_HEADERS, type PingAnswer } from '@natter/protocol';
import type { HttpApiDeps } from '../deps.js';
import { json } from '../responses.js';
import type { RouteHandlers } from '../router.js';

/**
 * Discovery, ping and the API's own description. All public: a client asks discovery before it has a
 * token, and they reveal only URLs, regions and fullness a client could learn by connecting anyway.
 * `GET /v1/ping` answers at once, so clients can measure their round trip to a node (and discovery can
 * probe it); a draining node answers 503 so it is never chosen.
 */
export function metaHandlers(deps: HttpApiDeps, openApi: () => Record<string, unknown>): RouteHandlers {
  return {
    discovery: async ({ ctx, query }) => deps.discovery(ctx.request, query, ctx.clientIp),
    ping: async () => {
      const { nodeId, region, draining } = deps.node();
      if (draining) throw new NatterError(ErrorCode.UNAVAILABLE, 'draining', 1_000);
      const body: PingAnswer = { nodeId, region, status: 'ok' };
      return json(200, body, { [PING_HEADERS.node]: nodeId, [PING_HEADERS.region]: region });
    },
    openApi: async () => openApi(),
  };
}
