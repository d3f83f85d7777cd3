import type { Discovery } from '@natter/protocol';
import type { RouteHandlers } from '../router.js';

/**
 * Discovery and the API's own description. Both public: a client asks for discovery before it has a
 * token, and it reveals only the URL and region a client could learn by connecting anyway.
 */
export function metaHandlers(
  discovery: (request: Request, region: string | undefined) => Promise<Discovery>,
  openApi: () => unknown,
): RouteHandlers {
  return {
    discovery: async ({ ctx, query }) => discovery(ctx.request, query.region),
    openApi: async () => openApi() as Record<string, unknown>,
  };
}
