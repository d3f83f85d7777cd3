import { type ErrorCode, HTTP_STATUS, NatterError } from '@natter/protocol';

/** Anything `new Headers()` accepts (`HeadersInit` is a DOM-lib type, absent under Node types). */
export type HeadersLike = ConstructorParameters<typeof Headers>[0];

/** The body of every error response. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** Set for 429 and 503: how long to wait before retrying, ms. */
    retryAfterMs?: number;
  };
}

// Responses carry tokens and private data: never cache them anywhere, never let a browser sniff a type.
const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** A JSON response. */
export function json(status: number, body: unknown, headers?: HeadersLike): Response {
  const response = new Response(JSON.stringify(body), { status, headers: BASE_HEADERS });
  if (headers) {
    for (const [name, value] of new Headers(headers)) response.headers.set(name, value);
  }
  return response;
}

/** An empty 204 response. */
export function noContent(): Response {
  return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
}

/** Extra details of an error response. */
export interface ErrorResponseOptions {
  /** Overrides the status from `HTTP_STATUS` (405 is the only case: no error code of its own). */
  status?: number;
  retryAfterMs?: number;
  headers?: HeadersLike;
}

/**
 * An error response `{ error: { code, message, retryAfterMs? } }` with the code's HTTP status.
 * 429 and 503 always carry `Retry-After` (whole seconds, rounded up) and `retryAfterMs`.
 */
export function errorResponse(
  code: ErrorCode,
  message: string,
  options: ErrorResponseOptions = {},
): Response {
  const status = options.status ?? HTTP_STATUS[code];
  const headers = new Headers(options.headers);
  let retryAfterMs = options.retryAfterMs;
  if (status === 429 || status === 503) {
    retryAfterMs = Math.max(0, Math.ceil(retryAfterMs ?? 1000));
    headers.set('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  }
  if (code === 'NATTER_UNAUTHORIZED' || code === 'NATTER_TOKEN_EXPIRED') {
    // RFC 6750: tells generic HTTP clients which scheme to use.
    headers.set(
      'www-authenticate',
      code === 'NATTER_TOKEN_EXPIRED' ? 'Bearer error="invalid_token"' : 'Bearer',
    );
  }
  const body: ErrorBody = {
    error: { code, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  };
  return json(status, body, headers);
}

/**
 * A NatterError answered with a status other than its code's (405 and 413 have no codes of their own).
 * The API reads `status` and `headers` by shape, not `instanceof`, like every natter error check.
 */
export class HttpError extends NatterError {
  constructor(
    code: ErrorCode,
    message: string,
    /** HTTP status to answer with. */
    readonly status: number,
    /** Extra headers, e.g. `Allow` on a 405. */
    readonly headers?: HeadersLike,
  ) {
    super(code, message);
  }
}
