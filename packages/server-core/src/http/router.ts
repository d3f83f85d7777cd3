import {
  type HttpMethod,
  pathParams,
  ROUTES,
  type RouteBody,
  type RouteName,
  type RouteQuery,
  type RouteResponse,
  type RouteSpec,
} from '@natter/protocol';
import type { Principal } from '../ports/authenticator.js';

/** What a handler gets about its request. */
export interface RequestContext {
  request: Request;
  url: URL;
  /** Decoded `{name}` segments of the matched path. */
  params: Readonly<Record<string, string>>;
  /** Address of the client, when the transport knows it (used for login throttling). */
  clientIp: string | undefined;
}

type AuthOf<N extends RouteName> = (typeof ROUTES)[N]['auth'] extends true ? Principal : undefined;

/** The server API key that called an `'apiKey'` route, by its configured name. */
export interface ApiCaller {
  keyName: string;
}

type CallerOf<N extends RouteName> = (typeof ROUTES)[N]['auth'] extends 'apiKey' ? ApiCaller : undefined;

/** The validated input of a route's handler: path parameters, query and body parsed by the route's schemas. */
export interface HandlerInput<N extends RouteName> {
  ctx: RequestContext;
  /** Path parameters, each a well-formed id (a malformed one answers 404 before the handler runs). */
  params: Readonly<Record<string, string>>;
  query: RouteQuery<N>;
  body: RouteBody<N>;
  /** The caller, for routes that need a bearer token. */
  principal: AuthOf<N>;
  /** The API key, for server API routes. */
  caller: CallerOf<N>;
}

/** What a handler returns: the route's response body (nothing for 204), or a whole `Response`. */
export type HandlerResult<N extends RouteName> =
  | (RouteResponse<N> extends undefined ? undefined : RouteResponse<N>)
  | Response;

/** Implements one route of {@link ROUTES}. */
export type RouteHandler<N extends RouteName> = (input: HandlerInput<N>) => Promise<HandlerResult<N>>;

/** Handlers by operation name; a route without a handler answers 404 like an unknown path. */
export type RouteHandlers = { [N in RouteName]?: RouteHandler<N> };

/** A route with its handler, as the router keeps it. */
export interface MountedRoute {
  name: RouteName;
  spec: RouteSpec;
  handle(input: HandlerInput<RouteName>): Promise<unknown>;
}

/** Outcome of {@link Router.match}. */
export type RouteMatch =
  | { kind: 'found'; route: MountedRoute; params: Record<string, string> }
  /** The path exists with other methods: answer 405 with `Allow`. */
  | { kind: 'wrong-method'; allowed: HttpMethod[] }
  | { kind: 'not-found' };

interface CompiledRoute {
  route: MountedRoute;
  segments: string[];
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

/**
 * A tiny exact-segment router over {@link ROUTES}: `{name}` matches one non-empty segment, everything else
 * literally. Literal segments win over parameters (`/v1/channels/direct` before `/v1/channels/{id}`).
 */
export class Router {
  private readonly routes: CompiledRoute[] = [];

  constructor(handlers: RouteHandlers) {
    for (const name of Object.keys(ROUTES) as RouteName[]) {
      const handle = handlers[name] as MountedRoute['handle'] | undefined;
      if (!handle) continue;
      const spec: RouteSpec = ROUTES[name];
      this.routes.push({ route: { name, spec, handle }, segments: splitPath(spec.path) });
    }
    // Fewer parameters first: a literal segment must not be taken as an id.
    this.routes.sort((a, b) => paramCount(a) - paramCount(b));
  }

  /** Operation names this router serves. */
  names(): RouteName[] {
    return this.routes.map((r) => r.route.name);
  }

  /** Finds the route for a method and a (still percent-encoded) pathname. */
  match(method: string, pathname: string): RouteMatch {
    const segments = splitPath(pathname);
    const allowed: HttpMethod[] = [];
    for (const { route, segments: pattern } of this.routes) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.spec.method === method) return { kind: 'found', route, params };
      if (!allowed.includes(route.spec.method)) allowed.push(route.spec.method);
    }
    return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'not-found' };
  }
}

function paramCount(route: CompiledRoute): number {
  return pathParams(route.route.spec.path).length;
}

function matchSegments(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = segments[i]!;
    if (expected.startsWith('{')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(actual);
      } catch {
        return undefined; // malformed percent-encoding names nothing
      }
      params[expected.slice(1, -1)] = decoded;
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}
