import type { Principal } from '../ports/authenticator.js';

/** HTTP methods the API routes on. */
export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** What a handler gets about its request. */
export interface RequestContext {
  request: Request;
  url: URL;
  /** Decoded `:name` segments of the matched path. */
  params: Readonly<Record<string, string>>;
  /** Address of the client, when the transport knows it (used for login throttling). */
  clientIp: string | undefined;
}

/** A route open to anyone (signup, login, refresh, discovery). */
export interface PublicRoute {
  method: Method;
  /** Path pattern, e.g. `/v1/groups/:id/members/:userId`. */
  path: string;
  auth: false;
  handle(ctx: RequestContext): Promise<Response>;
}

/** A route that needs a valid bearer token; the handler receives the caller. */
export interface AuthedRoute {
  method: Method;
  path: string;
  auth: true;
  handle(ctx: RequestContext, principal: Principal): Promise<Response>;
}

/** One API route. */
export type Route = PublicRoute | AuthedRoute;

/** Outcome of {@link Router.match}. */
export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  /** The path exists with other methods: answer 405 with `Allow`. */
  | { kind: 'wrong-method'; allowed: Method[] }
  | { kind: 'not-found' };

interface CompiledRoute {
  route: Route;
  segments: string[];
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

/**
 * A tiny exact-segment router: `:name` matches one non-empty segment, everything else literally.
 * Routes are tried in the order added, so literal routes (`/v1/channels/direct`) go before `:id` ones.
 */
export class Router {
  private readonly routes: CompiledRoute[] = [];

  /** Adds routes in priority order. */
  add(...routes: Route[]): this {
    for (const route of routes) this.routes.push({ route, segments: splitPath(route.path) });
    return this;
  }

  /** Finds the route for a method and a (still percent-encoded) pathname. */
  match(method: string, pathname: string): RouteMatch {
    const segments = splitPath(pathname);
    const allowed: Method[] = [];
    for (const { route, segments: pattern } of this.routes) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.method === method) return { kind: 'found', route, params };
      if (!allowed.includes(route.method)) allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'not-found' };
  }
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
    if (expected.startsWith(':')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(actual);
      } catch {
        return undefined; // malformed percent-encoding names nothing
      }
      params[expected.slice(1)] = decoded;
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}
