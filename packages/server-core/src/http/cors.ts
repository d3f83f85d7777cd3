import { isOriginAllowed, type ResolvedConfig } from '../config.js';

/** Request headers a browser may send cross-origin. */
export const CORS_ALLOWED_HEADERS = 'authorization, content-type';
/** How long a browser may cache a preflight answer, seconds. */
export const CORS_MAX_AGE_SECONDS = 600;

/** The CORS verdict for one request. */
export type CorsVerdict =
  /** No Origin header: not a cross-origin browser request, nothing to add. */
  { kind: 'none' } | { kind: 'allowed'; origin: string } | { kind: 'denied'; origin: string };

/** Checks the request's Origin against `allowedOrigins` (same-origin pages are always allowed). */
export function checkCors(request: Request, url: URL, config: ResolvedConfig): CorsVerdict {
  const origin = request.headers.get('origin');
  if (origin === null) return { kind: 'none' };
  const host = request.headers.get('host') ?? url.host;
  const scheme = url.protocol === 'https:' || url.protocol === 'wss:' ? 'https:' : 'http:';
  return isOriginAllowed(origin, host, config.allowedOrigins, scheme)
    ? { kind: 'allowed', origin }
    : { kind: 'denied', origin };
}

/**
 * Adds the CORS response headers for an allowed origin. The origin is reflected, never `*`, and
 * `Vary: Origin` keeps shared caches from serving one origin's answer to another.
 */
export function applyCors(response: Response, verdict: CorsVerdict): Response {
  if (verdict.kind !== 'allowed') return response;
  response.headers.set('access-control-allow-origin', verdict.origin);
  response.headers.append('vary', 'Origin');
  // Lets browser code read Retry-After on 429/503 and back off as told.
  response.headers.set('access-control-expose-headers', 'Retry-After');
  return response;
}

/** The 204 answer to a preflight for a path served with `methods`. */
export function preflightResponse(methods: readonly string[]): Response {
  const allow = [...methods, 'OPTIONS'].join(', ');
  return new Response(null, {
    status: 204,
    headers: {
      allow,
      'access-control-allow-methods': allow,
      'access-control-allow-headers': CORS_ALLOWED_HEADERS,
      'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
    },
  });
}
