import { ErrorCode, HTTP_STATUS, isNatterError } from '@natter/protocol';
import { LoginThrottle } from '../auth/login-throttle.js';
import type { Principal } from '../ports/authenticator.js';
import { clientIpOf } from './client-ip.js';
import { applyCors, checkCors, preflightResponse } from './cors.js';
import type { HttpApiDeps } from './deps.js';
import { errorResponse, type HeadersLike, HttpError } from './responses.js';
import { type RequestContext, Router } from './router.js';
import { authRoutes } from './routes/auth.js';
import { channelRoutes } from './routes/channels.js';
import { discoverMessageRoutes } from './routes/discover-messages.js';
import { discoveryRoutes } from './routes/discovery.js';
import { groupRoutes } from './routes/groups.js';
import { pushRoutes } from './routes/push.js';
import { userRoutes } from './routes/users.js';

export type { HttpApiDeps } from './deps.js';

/** Facts about a request that a fetch `Request` cannot carry. */
export interface ClientInfo {
  /** The client's address, for per-address login throttling. Defaults to what the node adapter saw. */
  clientIp?: string;
}

/** The natter HTTP API as one fetch-style handler. */
export interface HttpApi {
  /** Answers one request. Never rejects: every failure becomes an error response. */
  fetch(request: Request, info?: ClientInfo): Promise<Response>;
}

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Builds the HTTP API (`/v1/...`): JSON in and out, bodies validated, errors as
 * `{ error: { code, message, retryAfterMs? } }` with the code's HTTP status. docs/api.md lists the routes.
 */
export function createHttpApi(deps: HttpApiDeps): HttpApi {
  const { config, logger, metrics } = deps;
  const throttle = new LoginThrottle({ now: config.now });
  const router = new Router().add(...discoveryRoutes(deps));
  // Without the built-in token service the auth routes do not exist, so they answer 404 like any unknown path.
  if (deps.tokens) router.add(...authRoutes(deps, deps.tokens, throttle));
  router.add(
    ...userRoutes(deps),
    ...channelRoutes(deps),
    ...groupRoutes(deps),
    ...discoverMessageRoutes(deps),
    ...pushRoutes(deps),
  );

  async function authenticate(request: Request): Promise<Principal> {
    const match = BEARER.exec(request.headers.get('authorization') ?? '');
    if (!match) throw new HttpError(ErrorCode.UNAUTHORIZED, 'missing bearer token', 401);
    return deps.authenticator.authenticate(match[1]!);
  }

  async function route(request: Request, url: URL, info: ClientInfo | undefined): Promise<Response> {
    const isPreflight = request.method === 'OPTIONS';
    const match = router.match(isPreflight ? '' : request.method, url.pathname);
    if (match.kind === 'not-found') throw new HttpError(ErrorCode.NOT_FOUND, 'no such endpoint', 404);
    if (isPreflight) {
      return preflightResponse(match.kind === 'wrong-method' ? match.allowed : []);
    }
    if (match.kind === 'wrong-method') {
      // No error code of its own: BAD_REQUEST with the proper status and the methods that would work.
      const allow = match.allowed.join(', ');
      throw new HttpError(ErrorCode.BAD_REQUEST, `method not allowed; use ${allow}`, 405, { allow });
    }
    const ctx: RequestContext = {
      request,
      url,
      params: match.params,
      clientIp: info?.clientIp ?? clientIpOf(request),
    };
    const { route: found } = match;
    if (!found.auth) return found.handle(ctx);
    return found.handle(ctx, await authenticate(request));
  }

  function toErrorResponse(err: unknown, request: Request, url: URL): Response {
    if (!isNatterError(err)) {
      logger.error({ err, method: request.method, path: url.pathname }, 'http request failed');
      metrics.errors.inc({ code: ErrorCode.INTERNAL });
      // Never echo internal details to the client.
      return errorResponse(ErrorCode.INTERNAL, 'internal server error');
    }
    const { status, headers } = err as { status?: unknown; headers?: HeadersLike };
    const httpStatus = typeof status === 'number' ? status : HTTP_STATUS[err.code];
    if (httpStatus >= 500) {
      logger.error({ err, method: request.method, path: url.pathname }, 'http request failed');
    }
    metrics.errors.inc({ code: err.code });
    return errorResponse(err.code, err.message, {
      status: httpStatus,
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
      ...(headers ? { headers } : {}),
    });
  }

  return {
    async fetch(request, info) {
      const url = new URL(request.url);
      const cors = checkCors(request, url, config);
      let response: Response;
      try {
        // A page from a foreign origin is refused before any work (cross-site request forgery, data reads).
        if (cors.kind === 'denied') throw new HttpError(ErrorCode.FORBIDDEN, 'origin not allowed', 403);
        response = await route(request, url, info);
      } catch (err) {
        response = toErrorResponse(err, request, url);
      }
      logger.debug({ method: request.method, path: url.pathname, status: response.status }, 'http request');
      return applyCors(response, cors);
    },
  };
}
