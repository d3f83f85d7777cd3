import { ErrorCode, ID_PATTERN, NatterError } from '@natter/protocol';
import type { HttpApiDeps } from '../deps.js';
import { json } from '../responses.js';
import type { Route } from '../router.js';
import { intParam } from '../validation.js';

/** Optional id query parameter: absent is fine, malformed is a 400. */
function idQuery(url: URL, name: string): string | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  if (!ID_PATTERN.test(value)) throw new NatterError(ErrorCode.BAD_REQUEST, `${name} is not a valid id`);
  return value;
}

function paging(url: URL, maxLimit: number) {
  const limit = intParam(url, 'limit', 1, maxLimit);
  const beforeId = idQuery(url, 'beforeId');
  const channelId = idQuery(url, 'channelId');
  return {
    ...(limit !== undefined ? { limit } : {}),
    ...(beforeId !== undefined ? { beforeId } : {}),
    ...(channelId !== undefined ? { channelId } : {}),
  };
}

/** Random access across channels: "mentions of me", full-text search and presence lookups. */
export function discoverMessageRoutes(deps: HttpApiDeps): Route[] {
  const { service, presence, config } = deps;
  return [
    {
      method: 'GET',
      path: '/v1/mentions',
      auth: true,
      async handle(ctx, principal) {
        const messages = await service.mentions(
          principal.userId,
          paging(ctx.url, config.limits.maxHistoryPage),
        );
        return json(200, { messages });
      },
    },
    {
      method: 'GET',
      path: '/v1/search',
      auth: true,
      async handle(ctx, principal) {
        const q = ctx.url.searchParams.get('q')?.trim() ?? '';
        if (q.length === 0 || q.length > 200)
          throw new NatterError(ErrorCode.BAD_REQUEST, 'q must be 1-200 characters');
        const messages = await service.search(
          principal.userId,
          q,
          paging(ctx.url, config.limits.maxHistoryPage),
        );
        return json(200, { messages });
      },
    },
    {
      method: 'GET',
      path: '/v1/presence',
      auth: true,
      async handle(ctx, principal) {
        const channelId = idQuery(ctx.url, 'channelId');
        const raw = ctx.url.searchParams.get('userIds');
        const userIds = raw ? raw.split(',').filter(Boolean) : undefined;
        if ((channelId === undefined) === (userIds === undefined)) {
          throw new NatterError(ErrorCode.BAD_REQUEST, 'give exactly one of userIds, channelId');
        }
        if (userIds && (userIds.length > 200 || !userIds.every((id) => ID_PATTERN.test(id)))) {
          throw new NatterError(ErrorCode.BAD_REQUEST, 'userIds must be at most 200 valid ids');
        }
        const users = await presence.query(principal.userId, {
          ...(channelId !== undefined ? { channelId } : {}),
          ...(userIds !== undefined ? { userIds } : {}),
        });
        return json(200, { users });
      },
    },
  ];
}
