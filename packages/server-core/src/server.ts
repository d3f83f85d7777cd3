import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ErrorCode, ROUTES } from '@natter/protocol';
import type { NatterServerOptions } from './config.js';
import type { ClientInfo } from './http/api.js';
import { type FrameworkRequest, isNatterTarget, natterTargetOf } from './http/framework-request.js';
import { toNodeListener } from './http/node-adapter.js';
import { registerInternals } from './internals-registry.js';
import type { NatterMetrics } from './observability/metrics.js';
import type { Principal } from './ports/authenticator.js';
import type { ClientConnection, ConnectionHandler } from './ports/connection.js';
import { NodeLifecycle } from './server/lifecycle.js';
import { wireNode } from './server/wiring.js';

/** A natter node: HTTP API, WebSocket chat, metrics and health, over one storage adapter. */

/** Paths of the routes that set their own `maxBodyBytes`, as one pattern. */
const OWN_BODY_LIMIT = new RegExp(
  `^(?:${Object.values(ROUTES)
    .filter((route) => 'maxBodyBytes' in route)
    .map((route) => route.path.replace(/\{[^}]+\}/g, '[^/]+'))
    .join('|')})$`,
);

export interface NatterServer {
  /** This node's id (for discovery and cross-node routing). */
  readonly nodeId: string;
  /** Path of the WebSocket endpoint, e.g. `/v1/ws`. */
  readonly wsPath: string;
  /** The node's Prometheus metrics (also served at `GET /metrics`). */
  readonly metrics: NatterMetrics;
  /**
   * Fetch-style handler for the HTTP API (`/v1/...`), `/healthz` and `/metrics`: mount it in Hono, Bun or
   * Deno. `info.clientIp` is the client's address (for login throttling) when the runtime knows it.
   */
  fetch(request: Request, info?: ClientInfo): Promise<Response>;
  /**
   * Node `request` listener for the same routes. It routes on Express's `originalUrl` when a mount path was
   * stripped, and takes the body a framework's parser already read (`req.body`) instead of waiting for it.
   */
  readonly requestListener: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Connect/Express middleware: answers natter's paths (`/v1/...`, `/healthz`, `/metrics`) and hands every
   * other request to `next`. Mount it anywhere, before or after body parsers:
   * `app.use(natter.middleware)`. docs/frameworks.md has the Express, Fastify and Hono recipes.
   */
  readonly middleware: (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;
  /**
   * True when natter answers this request over HTTP: its target (`req.url`, or Express's `originalUrl`) is
   * under `/v1/`, or is `/healthz` or `/metrics`. Frameworks that route first (a Fastify `onRequest` hook,
   * a Hono middleware) ask it before handing the request over. Accepts a Node request or a path.
   */
  handles(request: IncomingMessage | string): boolean;
  /**
   * Opens a protocol session over any transport: the transport-agnostic entry point. The `ws` adapter uses
   * it after authenticating; other transports (and test harnesses) call it directly.
   */
  accept(principal: Principal, deviceId: string | undefined, connection: ClientConnection): ConnectionHandler;
  /** Adds the WebSocket endpoint to an existing Node HTTP server. */
  attach(server: Server): void;
  /**
   * Checks the storage adapter's manifest, opens storage and push, and starts the timers. Called by
   * `listen`. Idempotent; after a failure (storage unreachable, say) it can be called again.
   */
  start(): Promise<void>;
  /** Starts, then serves everything on `port` (0 picks one) with an HTTP server of its own. */
  listen(port: number, host?: string): Promise<{ server: Server; port: number; url: string }>;
  /** Closes the sessions of one user (of one device, if given) with a close code, e.g. after a ban. */
  closeSessions(userId: string, deviceId: string | undefined, code: number, reason: string): void;
  /**
   * Graceful drain: refuses new sockets, deregisters from discovery, and closes every client with 1001 at a
   * random moment within `cluster.drainWindowMs`, so they reconnect elsewhere without a stampede.
   */
  drain(): Promise<void>;
  /** Closes sockets, the HTTP server `listen` started, push, and the storage. */
  close(): Promise<void>;
}

/**
 * Creates a natter node. The quickest start:
 * ```ts
 * const server = createNatterServer({ storage: createSqliteStorage({ path: './data/natter.db' }), tokens: { secret } });
 * await server.listen(8080);
 * ```
 * @throws TypeError or RangeError for options that can never work (no authenticator, a short secret).
 */
export function createNatterServer(options: NatterServerOptions): NatterServer {
  const parts = wireNode(options);
  const { metrics } = parts;

  const fetchHandler = async (request: Request, info?: ClientInfo): Promise<Response> => {
    const url = new URL(request.url);
    const { pathname } = url;
    // A Host that is not ours is a DNS-rebinding page (or a misrouted request): nothing is answered.
    if (!parts.config.hosts.allows(request.headers.get('host') ?? url.host)) {
      metrics.errors.inc({ code: 'host_refused' });
      return Response.json(
        { error: { code: ErrorCode.FORBIDDEN, message: 'host not allowed' } },
        { status: 403 },
      );
    }
    if (request.method === 'GET' && pathname === '/healthz') {
      const draining = parts.draining;
      return Response.json({ status: draining ? 'draining' : 'ok' }, { status: draining ? 503 : 200 });
    }
    if (request.method === 'GET' && pathname === '/metrics') {
      if (!metricsAuthorized(request, options.metricsToken)) {
        return Response.json(
          { error: { code: ErrorCode.UNAUTHORIZED, message: 'metrics token required' } },
          { status: 401, headers: { 'www-authenticate': 'Bearer' } },
        );
      }
      return new Response(await metrics.registry.metrics(), {
        headers: { 'content-type': metrics.registry.contentType },
      });
    }
    return parts.api.fetch(request, info);
  };
  const requestListener = toNodeListener((request) => fetchHandler(request), {
    maxBodyBytes: parts.config.maxBodyBytes,
    // Uploads are streamed to the media pipeline, which enforces its own limit (never buffered whole); routes
    // with a body limit of their own (MLS commits) are streamed to the API, which reads them up to it.
    streamBody: (pathname: string) =>
      (parts.media !== undefined && pathname.startsWith('/v1/media')) || OWN_BODY_LIMIT.test(pathname),
    metrics,
    logger: parts.logger,
  });
  const handles = (request: IncomingMessage | string): boolean =>
    typeof request === 'string' ? isNatterTarget(request) : natterTargetOf(request) !== undefined;
  const middleware = (req: FrameworkRequest, res: ServerResponse, next?: (err?: unknown) => void): void => {
    if (handles(req)) requestListener(req, res);
    else if (next) next();
    else {
      res.statusCode = 404;
      res.end();
    }
  };
  const lifecycle = new NodeLifecycle(parts, options, requestListener);

  const server: NatterServer = {
    nodeId: parts.nodeId,
    wsPath: parts.config.wsPath,
    metrics,
    fetch: fetchHandler,
    requestListener,
    middleware,
    handles,
    accept: (principal, deviceId, connection) => parts.accept(principal, deviceId, connection),
    attach: (httpServer) => parts.transport.attach(httpServer),
    start: () => lifecycle.start(),
    listen: (port, host) => lifecycle.listen(port, host),
    closeSessions: (userId, deviceId, code, reason) => parts.closeSessions(userId, deviceId, code, reason),
    drain: () => lifecycle.drain(),
    close: () => lifecycle.close(),
  };
  registerInternals(server, parts);
  return server;
}

/** Whether a `/metrics` request carries the configured token (always, when none is configured). */
function metricsAuthorized(request: Request, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = request.headers.get('authorization')?.replace(/^Bearer\s+/i, '') ?? '';
  // Hashes first, so the comparison is constant-time whatever the lengths.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}
