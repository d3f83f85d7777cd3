import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode, newPrefixedId } from '@natter/protocol';
import { TokenService } from './auth/token-service.js';
import { ChatService } from './chat/chat-service.js';
import { LocalHub } from './chat/local-hub.js';
import { type NatterServerOptions, type ResolvedConfig, resolveConfig } from './config.js';
import { createHttpApi } from './http/api.js';
import { toNodeListener } from './http/node-adapter.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type NatterMetrics } from './observability/metrics.js';
import type { Authenticator } from './ports/authenticator.js';
import { ChatSession } from './ws/chat-session.js';
import { WsTransport } from './ws/ws-transport.js';

/** A running natter node: HTTP API, WebSocket chat, metrics and health, over one storage adapter. */
export interface NatterServer {
  readonly service: ChatService;
  readonly hub: LocalHub;
  readonly metrics: NatterMetrics;
  readonly logger: Logger;
  readonly config: ResolvedConfig;
  /** The built-in token service, when `tokens` was given. */
  readonly tokens: TokenService | undefined;
  /** Fetch-style handler for the HTTP API (`/v1/...`), `/healthz` and `/metrics`. */
  fetch(request: Request): Promise<Response>;
  /** Node `request` listener for the same routes; mount it in an existing server or framework. */
  readonly requestListener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Adds the WebSocket endpoint to an existing Node HTTP server. */
  attach(server: Server): void;
  /** Opens storage and starts the heartbeat sweeper. Called by `listen`. Idempotent. */
  start(): Promise<void>;
  /** Starts an HTTP server on `port` (0 picks one) serving everything. */
  listen(port: number, host?: string): Promise<{ server: Server; port: number; url: string }>;
  /** Closes the sessions of one user (of one device, if given), e.g. after logout. */
  closeSessions(userId: string, deviceId: string | undefined, code: number, reason: string): void;
  /** Refuses new sockets and asks connected clients to reconnect (to another node) with 1001. */
  drain(): void;
  /** Closes sockets, the HTTP server it started, and the storage. */
  close(): Promise<void>;
}

/**
 * Creates a natter node. The quickest start:
 * ```ts
 * const server = createNatterServer({ storage: createSqliteStorage({ path: './data/natter.db' }), tokens: { secret } });
 * await server.listen(8080);
 * ```
 */
export function createNatterServer(options: NatterServerOptions): NatterServer {
  const config = resolveConfig(options);
  const logger = options.logger ?? createLogger();
  const metrics = options.metrics ?? createMetrics();
  const { storage } = options;
  const hub = new LocalHub();
  const service = new ChatService({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: config.limits,
    sink: hub,
    now: config.now,
  });
  const tokens = options.tokens ? new TokenService(options.tokens, storage.accounts, config.now) : undefined;
  const authenticator: Authenticator | undefined = options.authenticator ?? tokens;
  if (!authenticator) throw new TypeError('createNatterServer needs `tokens` or an `authenticator`');

  let draining = false;
  let started: Promise<void> | undefined;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const httpServers: Server[] = [];

  const closeSessions = (userId: string, deviceId: string | undefined, code: number, reason: string) => {
    for (const endpoint of [...hub.endpointsOf(userId)]) {
      if (deviceId === undefined || endpoint.deviceId === deviceId)
        (endpoint as ChatSession).close(code, reason);
    }
  };

  const transport = new WsTransport({
    config,
    logger,
    metrics,
    authenticate: (token) => authenticator.authenticate(token),
    isDraining: () => draining,
    accept: ({ principal, deviceId, connection }) => {
      const session = new ChatSession(
        newPrefixedId('conn'),
        deviceId ?? newPrefixedId('dev'),
        principal,
        connection,
        { service, chat: storage.chat, hub, config, logger, metrics },
      );
      void session.start(session.connectionId);
      return session;
    },
  });

  const api = createHttpApi({
    service,
    accounts: storage.accounts,
    authenticator,
    ...(tokens ? { tokens } : {}),
    allowSignup: options.tokens?.allowSignup ?? true,
    config,
    logger,
    metrics,
    discovery: async (request) => ({
      wsUrl: options.publicWsUrl ?? wsUrlFor(request, config.wsPath),
      region: config.region,
    }),
    onLogout: (userId, deviceId) => closeSessions(userId, deviceId, CloseCode.SESSION_REVOKED, 'logged out'),
  });

  const fetchHandler = async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (request.method === 'GET' && pathname === '/healthz') {
      return Response.json({ status: draining ? 'draining' : 'ok' }, { status: draining ? 503 : 200 });
    }
    if (request.method === 'GET' && pathname === '/metrics') {
      return new Response(await metrics.registry.metrics(), {
        headers: { 'content-type': metrics.registry.contentType },
      });
    }
    return api.fetch(request);
  };
  const requestListener = toNodeListener(fetchHandler, {
    maxBodyBytes: config.maxBodyBytes,
    metrics,
    logger,
  });

  const sweepHeartbeats = () => {
    const deadline = config.now() - config.limits.heartbeatTimeoutMs;
    for (const endpoint of [...hub.all()]) {
      const session = endpoint as ChatSession;
      if (session.lastSeenAt < deadline) session.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
    }
  };

  const server: NatterServer = {
    service,
    hub,
    metrics,
    logger,
    config,
    tokens,
    fetch: fetchHandler,
    requestListener,
    attach: (httpServer) => transport.attach(httpServer),
    start() {
      started ??= (async () => {
        await storage.open();
        const every = Math.max(250, Math.min(5_000, Math.floor(config.limits.heartbeatTimeoutMs / 4)));
        sweeper = setInterval(sweepHeartbeats, every);
        sweeper.unref?.();
      })();
      return started;
    },
    async listen(port, host = '127.0.0.1') {
      await server.start();
      const httpServer = createServer(requestListener);
      transport.attach(httpServer);
      httpServers.push(httpServer);
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => resolve());
      });
      const actual = (httpServer.address() as AddressInfo).port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      return { server: httpServer, port: actual, url: `http://${shownHost}:${actual}` };
    },
    closeSessions,
    drain() {
      draining = true;
      for (const endpoint of [...hub.all()])
        (endpoint as ChatSession).close(CloseCode.GOING_AWAY, 'draining');
    },
    async close() {
      draining = true;
      if (sweeper) clearInterval(sweeper);
      for (const endpoint of [...hub.all()])
        (endpoint as ChatSession).close(CloseCode.GOING_AWAY, 'server closing');
      await transport.close();
      await Promise.all(
        httpServers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      if (started) await storage.close();
    },
  };
  return server;
}

function wsUrlFor(request: Request, path: string): string {
  const url = new URL(request.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = path;
  url.search = '';
  return url.toString();
}
