import {
  ErrorCode,
  HTTP_STATUS,
  IdSchema,
  isErrorCode,
  isNatterError,
  NatterError,
  parseBody,
  parseQuery,
  pathParams,
} from '@natter/protocol';
import { buildOpenApiDocument } from '@natter/protocol/openapi';
import * as v from 'valibot';
import type { Principal } from '../ports/authenticator.js';
import { clientIpOf } from './client-ip.js';
import { applyCors, checkCors, preflightResponse } from './cors.js';
import type { HttpApiDeps } from './deps.js';
import { errorResponse, type HeadersLike, HttpError, json, noContent } from './responses.js';
import { type MountedRoute, type RequestContext, Router } from './router.js';
import { accountHandlers } from './routes/accounts.js';
import { chatHandlers } from './routes/channels.js';
import { e2eeHandlers } from './routes/e2ee.js';
import { mediaHandlers } from './routes/media.js';
import { metaHandlers } from './routes/meta.js';
import { moderationHandlers, serverModerationHandlers } from './routes/moderation.js';
import { pushHandlers } from './routes/push.js';
import { serverHandlers } from './routes/server.js';
import { readJson } from './validation.js';

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
  /** Operation names of `ROUTES` this API serves (with its configuration). */
  routes(): string[];
}

const BEARER = /^Bearer +(\S+) *$/i;

/** What a malformed path parameter names, for its 404: the member of a group, a user, or a channel. */
function notFoundFor(route: MountedRoute, param: string): NatterError {
  const what = param === 'userId' ? 'member' : route.spec.tag === 'users' ? 'user' : 'channel';
  return new NatterError(ErrorCode.NOT_FOUND, `${what} not found`);
}

/**
 * Builds the HTTP API (`/v1/...`) from the protocol's route table: JSON in and out, path parameters, query
 * and body validated by the route's schemas, errors as `{ error: { code, message, retryAfterMs? } }` with
 * the code's HTTP status. `GET /v1/openapi.json` describes it; docs/api.md lists the routes.
 */
export function createHttpApi(deps: HttpApiDeps): HttpApi {
  const { config, logger, metrics } = deps;
  let openApi: Record<string, unknown> | undefined;
  const router = new Router({
    ...metaHandlers(deps, () => {
      openApi ??= buildOpenApiDocument();
      return openApi;
    }),
    ...accountHandlers(deps.accounts, deps.onLogout, deps.onPasswordChanged),
    ...chatHandlers(deps.service, deps.presence, config.limits),
    ...(deps.push ? pushHandlers(deps.push, deps.service) : {}),
    ...(deps.media ? mediaHandlers(deps.media, deps.authenticator) : {}),
    ...(deps.serverApi?.keys.enabled ? serverHandlers(deps.serverApi.service, deps.serverApi.events) : {}),
    ...(deps.moderation ? moderationHandlers(deps.moderation, deps.service) : {}),
    ...(deps.e2ee ? e2eeHandlers(deps.e2ee) : {}),
    ...(deps.moderation && deps.serverApi?.keys.enabled
      ? serverModerationHandlers(deps.moderation.users)
      : {}),
  });

  async function authenticate(request: Request): Promise<Principal> {
    const match = BEARER.exec(request.headers.get('authorization') ?? '');
    if (!match) throw new HttpError(ErrorCode.UNAUTHORIZED, 'missing bearer token', 401);
    return deps.authenticator.authenticate(match[1]!);
  }

  async function run(route: MountedRoute, ctx: RequestContext): Promise<Response> {
    const { spec } = route;
    const principal = spec.auth === true ? await authenticate(ctx.request) : undefined;
    // Server API routes take an API key instead of a user's token; its scope is checked before anything.
    const caller =
      spec.auth === 'apiKey' && spec.scope && deps.serverApi
        ? { keyName: deps.serverApi.keys.authorize(ctx.request, spec.scope) }
        : undefined;
    for (const name of pathParams(spec.path)) {
      // A malformed id names nothing: the same 404 as for an id that does not exist.
      if (!v.is(IdSchema, ctx.params[name])) throw notFoundFor(route, name);
    }
    const query = spec.query ? parseQuery(spec.query, ctx.url.searchParams) : undefined;
    const body = spec.body
      ? parseBody(spec.body, await readJson(ctx.request, spec.maxBodyBytes ?? config.maxBodyBytes))
      : undefined;
    // Each handler's input type is derived from its route's schemas, which validated `query` and `body`
    // just above; the router holds handlers of every route in one list, so it passes the input untyped.
    const result = await route.handle({ ctx, params: ctx.params, query, body, principal, caller } as never);
    if (result instanceof Response) return result;
    return spec.response ? json(spec.status, result) : noContent();
  }

  async function route(request: Request, url: URL, info: ClientInfo | undefined): Promise<Response> {
    // tus has its own methods and headers under one prefix; @tus/server answers them (OPTIONS included).
    const tusPath = deps.media?.tusPath;
    if (tusPath && (url.pathname === tusPath || url.pathname.startsWith(`${tusPath}/`))) {
      return deps.media!.tus(request);
    }
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
    return run(match.route, ctx);
  }

  function toErrorResponse(err: unknown, request: Request, url: URL): Response {
    if (!isNatterError(err) || !isErrorCode(err.code)) {
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
    routes: () => router.names(),
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
