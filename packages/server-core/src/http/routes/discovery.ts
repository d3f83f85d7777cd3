import {
  ErrorCode,
  NatterError,
  PING_HEADERS,
  PING_PATH,
  type PingAnswer,
  parseDiscoveryQuery,
} from '@natter/protocol';
import type { HttpApiDeps } from '../deps.js';
import { json } from '../responses.js';
import type { Route } from '../router.js';

/**
 * `GET /v1/discovery`: which chat nodes to connect to, best first. Public, because a client asks before it
 * has a token; it reveals only URLs, regions and fullness a client could learn by connecting anyway.
 * `GET /v1/ping`: this node answers at once, so clients can measure their round trip to it (and discovery
 * can probe it); a draining node answers 503 so it is never chosen.
 */
export function discoveryRoutes(deps: HttpApiDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/discovery',
      auth: false,
      async handle(ctx) {
        const query = parseDiscoveryQuery(ctx.url.searchParams);
        if (!query) {
          throw new NatterError(
            ErrorCode.BAD_REQUEST,
            'region must be 1-64 characters; failed a comma-separated list of at most 8 node ids',
          );
        }
        return json(200, await deps.discovery(ctx.request, query, ctx.clientIp));
      },
    },
    {
      method: 'GET',
      path: PING_PATH,
      auth: false,
      async handle() {
        const { nodeId, region, draining } = deps.node();
        if (draining) throw new NatterError(ErrorCode.UNAVAILABLE, 'draining', 1_000);
        const body: PingAnswer = { nodeId, region, status: 'ok' };
        return json(200, body, { [PING_HEADERS.node]: nodeId, [PING_HEADERS.region]: region });
      },
    },
  ];
}
