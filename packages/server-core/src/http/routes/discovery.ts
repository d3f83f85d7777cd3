import type { HttpApiDeps } from '../deps.js';
import { json } from '../responses.js';
import type { Route } from '../router.js';

/**
 * `GET /v1/discovery`: where to open the WebSocket. Public, because a client asks before it has a
 * token; it reveals only the URL and region a client could learn by connecting anyway.
 */
export function discoveryRoutes(deps: HttpApiDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/discovery',
      auth: false,
      async handle(ctx) {
        const { wsUrl, region } = await deps.discovery(ctx.request);
        return json(200, { wsUrl, region });
      },
    },
  ];
}
