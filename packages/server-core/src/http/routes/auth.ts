import { ErrorCode, NatterError, newPrefixedId, type UserProfile } from '@natter/protocol';
import type { LoginThrottle } from '../../auth/login-throttle.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../../auth/passwords.js';
import type { IssuedTokens, TokenService } from '../../auth/token-service.js';
import { toProfile } from '../../chat/to-wire.js';
import type { HttpApiDeps } from '../deps.js';
import { json, noContent } from '../responses.js';
import type { RequestContext, Route } from '../router.js';
import { LoginSchema, LogoutSchema, RefreshSchema, readJson, SignupSchema, validate } from '../validation.js';

/** Body of a successful signup, login or refresh. */
export interface SessionBody extends IssuedTokens {
  user: UserProfile;
  deviceId: string;
}

const invalidCredentials = () =>
  new NatterError(ErrorCode.INVALID_CREDENTIALS, 'invalid username or password');

/**
 * `/v1/auth/*`: signup, login, refresh and logout with the built-in token service. Not mounted when the
 * app uses its own authenticator, so they answer 404 then.
 */
export function authRoutes(deps: HttpApiDeps, tokens: TokenService, throttle: LoginThrottle): Route[] {
  const { accounts, config } = deps;
  const body = (ctx: RequestContext) => readJson(ctx.request, config.maxBodyBytes);

  const session = async (user: UserProfile, deviceId: string): Promise<SessionBody> => ({
    user,
    deviceId,
    ...(await tokens.issue(user.id, deviceId)),
  });

  return [
    {
      method: 'POST',
      path: '/v1/auth/signup',
      auth: false,
      async handle(ctx) {
        const input = validate(SignupSchema, await body(ctx));
        if (!deps.allowSignup)
          throw new NatterError(ErrorCode.FORBIDDEN, 'signup is disabled on this server');
        // Checked before hashing so a taken name costs no scrypt work; createUser still enforces it atomically.
        if (await accounts.findUserByUsername(input.username)) {
          throw new NatterError(ErrorCode.CONFLICT, 'username is taken');
        }
        const now = config.now();
        const user = {
          id: newPrefixedId('u', now),
          username: input.username,
          displayName: input.displayName ?? input.username,
          passwordHash: await hashPassword(input.password),
          createdAt: now,
        };
        await accounts.createUser(user);
        return json(201, await session(toProfile(user), input.deviceId ?? newPrefixedId('dev', now)));
      },
    },
    {
      method: 'POST',
      path: '/v1/auth/login',
      auth: false,
      async handle(ctx) {
        const input = validate(LoginSchema, await body(ctx));
        const keys = [`user:${input.username}`, ...(ctx.clientIp ? [`ip:${ctx.clientIp}`] : [])];
        throttle.check(keys);
        const user = await accounts.findUserByUsername(input.username);
        // Unknown users (and accounts without a password) verify against a dummy hash: the same scrypt
        // work and the same answer as a wrong password, so neither body nor timing reveals who exists.
        const valid = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
        if (!user || !valid) {
          throttle.recordFailure(keys);
          throw invalidCredentials();
        }
        // Only the username's counter resets: resetting the address's would let one valid account
        // launder an attacker's guesses against other accounts from the same address.
        throttle.reset([`user:${input.username}`]);
        const deviceId = input.deviceId ?? newPrefixedId('dev', config.now());
        return json(200, await session(toProfile(user), deviceId));
      },
    },
    {
      method: 'POST',
      path: '/v1/auth/refresh',
      auth: false,
      async handle(ctx) {
        const input = validate(RefreshSchema, await body(ctx));
        const refreshed = await tokens.refresh(input.refreshToken);
        const user = await accounts.getUser(refreshed.userId);
        if (!user) throw new NatterError(ErrorCode.UNAUTHORIZED, 'invalid refresh token');
        const { accessToken, refreshToken, expiresAt, deviceId } = refreshed;
        const result: SessionBody = { user: toProfile(user), deviceId, accessToken, refreshToken, expiresAt };
        return json(200, result);
      },
    },
    {
      method: 'POST',
      path: '/v1/auth/logout',
      auth: true,
      async handle(ctx, principal) {
        const input = validate(LogoutSchema, await body(ctx));
        // A token without a device claim cannot name one device: revoke everything to be safe.
        const deviceId = input.allDevices ? undefined : principal.deviceId;
        await tokens.revoke(principal.userId, deviceId);
        deps.onLogout(principal.userId, deviceId);
        return noContent();
      },
    },
  ];
}
