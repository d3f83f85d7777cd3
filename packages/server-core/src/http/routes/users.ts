import { ErrorCode, NatterError } from '@natter/protocol';
import { toProfile } from '../../chat/to-wire.js';
import type { HttpApiDeps } from '../deps.js';
import { json } from '../responses.js';
import type { Route } from '../router.js';
import { idParam, intParam, readJson, UpdateProfileSchema, validate } from '../validation.js';

/** Most users one search returns. */
export const MAX_USER_SEARCH = 50;

const userNotFound = () => new NatterError(ErrorCode.NOT_FOUND, 'user not found');

/** `/v1/me` and `/v1/users`: the caller's profile and other users' public profiles. */
export function userRoutes(deps: HttpApiDeps): Route[] {
  const { accounts, config } = deps;
  return [
    {
      method: 'GET',
      path: '/v1/me',
      auth: true,
      async handle(_ctx, principal) {
        // With an app's own authenticator the caller may have no account row here.
        const user = await accounts.getUser(principal.userId);
        if (!user) throw userNotFound();
        return json(200, { user: toProfile(user) });
      },
    },
    {
      method: 'PATCH',
      path: '/v1/me',
      auth: true,
      async handle(ctx, principal) {
        const input = validate(UpdateProfileSchema, await readJson(ctx.request, config.maxBodyBytes));
        const user = await accounts.updateUser(principal.userId, { displayName: input.displayName });
        if (!user) throw userNotFound();
        return json(200, { user: toProfile(user) });
      },
    },
    {
      method: 'GET',
      path: '/v1/users',
      auth: true,
      async handle(ctx) {
        const prefix = ctx.url.searchParams.get('prefix')?.toLowerCase() ?? '';
        if (prefix.length < 1 || prefix.length > 32) {
          throw new NatterError(ErrorCode.BAD_REQUEST, 'prefix must be 1-32 characters');
        }
        const limit = intParam(ctx.url, 'limit', 1, MAX_USER_SEARCH) ?? 20;
        const users = await accounts.searchUsers(prefix, limit);
        return json(200, { users: users.map(toProfile) });
      },
    },
    {
      method: 'GET',
      path: '/v1/users/:id',
      auth: true,
      async handle(ctx) {
        const user = await accounts.getUser(idParam(ctx.params, 'id', 'user'));
        if (!user) throw userNotFound();
        return json(200, { user: toProfile(user) });
      },
    },
  ];
}
