import type { IncomingMessage } from 'node:http';

/**
 * A Node request as web frameworks hand it on: Express keeps the full target in `originalUrl` (its
 * `req.url` has the mount path stripped) and a body parser leaves what it read in `body`.
 */
export interface FrameworkRequest extends IncomingMessage {
  /** The request target before a framework stripped its mount path (Express, Connect). */
  originalUrl?: string;
  /** What a body parser (`express.json()`, `express.raw()`, ...) already read from the stream. */
  body?: unknown;
}

/** Paths a natter node answers over HTTP: the API, health and metrics. */
const NATTER_PATH = /^\/(v1|healthz|metrics)(\/|\?|$)/;

/** True when a request target (path and query) is one natter answers. */
export function isNatterTarget(target: string): boolean {
  return NATTER_PATH.test(target);
}

/**
 * The target natter should route on. `req.url` wins when it names a natter path (mounted at the root, or
 * under a prefix the framework stripped); otherwise Express's `originalUrl`, because `app.use('/v1', ...)`
 * leaves only `/auth/login` in `req.url`. Undefined when neither is one of natter's paths.
 */
export function natterTargetOf(req: FrameworkRequest): string | undefined {
  const url = req.url ?? '/';
  if (isNatterTarget(url)) return url;
  const original = req.originalUrl;
  if (typeof original === 'string' && isNatterTarget(original)) return original;
  return undefined;
}

/**
 * The body a framework's parser already consumed, as bytes, or undefined when the stream is still unread
 * (then the adapter reads it itself). Reading an ended stream would wait forever for an `end` that already
 * came, which is how a mount after `express.json()` used to hang until the client gave up.
 */
export function consumedBody(req: FrameworkRequest): Buffer | undefined {
  if (!req.readableEnded) return undefined;
  const { body } = req;
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'string') return Buffer.from(body);
  // A parsed JSON value: natter's API speaks JSON, so serializing it again gives the same request.
  return Buffer.from(JSON.stringify(body));
}
