import type { AccountService } from '../../accounts/account-service.js';
import type { RouteHandlers } from '../router.js';

/**
 * `/v1/auth/*`, `/v1/me` and `/v1/users`: thin wrappers over {@link AccountService}. The auth routes are
 * mounted only with the built-in token service, so they answer 404 when the app brings its own.
 */
export function accountHandlers(
  accounts: AccountService,
  onLogout: (userId: string, deviceId: string | undefined) => void,
  onPasswordChanged?: (userId: string, keptDeviceId: string | undefined) => void,
): RouteHandlers {
  const profiles: RouteHandlers = {
    me: async ({ principal }) => ({ user: await accounts.me(principal.userId) }),
    updateProfile: async ({ principal, body }) => ({
      user: await accounts.updateProfile(principal.userId, body),
    }),
    getUser: async ({ params }) => ({ user: await accounts.getUser(params.id!) }),
    searchUsers: async ({ query }) => ({
      users: await accounts.searchUsers(query.prefix, query.limit ?? 20),
    }),
  };
  if (!accounts.hasTokens) return profiles;
  return {
    ...profiles,
    signup: async ({ body, ctx }) => accounts.signup(body, ctx.clientIp),
    login: async ({ body, ctx }) => accounts.login(body, ctx.clientIp),
    refresh: async ({ body }) => accounts.refresh(body.refreshToken),
    logout: async ({ body, principal }) => {
      const device = await accounts.logout(principal, body.allDevices ?? false);
      onLogout(principal.userId, device);
      return undefined;
    },
    changePassword: async ({ body, principal, ctx }) => {
      const session = await accounts.changePassword(principal, body, ctx.clientIp);
      onPasswordChanged?.(principal.userId, principal.deviceId);
      return session;
    },
  };
}
