import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode, DISCOVERY_LIMITS, ErrorCode, NatterError, newPrefixedId } from '@natter/protocol';
import { TokenService } from './auth/token-service.js';
import { ChatService } from './chat/chat-service.js';
import type { DeliverySink } from './chat/delivery.js';
import { LocalHub } from './chat/local-hub.js';
import { ClusterSink } from './cluster/cluster-sink.js';
import { candidateOf, DiscoveryService, toAnswer } from './cluster/discovery-service.js';
import { type NatterServerOptions, type ResolvedConfig, resolveConfig } from './config.js';
import { createHttpApi } from './http/api.js';
import { toNodeListener } from './http/node-adapter.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type NatterMetrics } from './observability/metrics.js';
import type { Authenticator, Principal } from './ports/authenticator.js';
import type { NodeInfo } from './ports/broker.js';
import type { ClientConnection, ConnectionHandler } from './ports/connection.js';
import type { StorageAdapter } from './ports/storage.js';
import { MemoryPresenceStore } from './presence/memory-presence-store.js';
import type { EphemeralSink } from './presence/presence-service.js';
import { PresenceService } from './presence/presence-service.js';
import { ChatSession, type SessionDeps } from './ws/chat-session.js';
import { DeadlineQueue } from './ws/deadline-queue.js';
import { WsTransport } from './ws/ws-transport.js';

/** A running natter node: HTTP API, WebSocket chat, metrics and health, over one storage adapter. */
export interface NatterServer {
  readonly service: ChatService;
  readonly presence: PresenceService;
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
  /** The storage adapter the node runs on. */
  readonly storage: StorageAdapter;
  /**
   * Opens a protocol session over any transport: the transport-agnostic entry point. The `ws` adapter uses
   * it after authenticating; other transports (and the simulation harness) call it directly.
   */
  accept(principal: Principal, deviceId: string | undefined, connection: ClientConnection): ConnectionHandler;
  /** Adds the WebSocket endpoint to an existing Node HTTP server. */
  attach(server: Server): void;
  /** Opens storage and starts the heartbeat sweeper. Called by `listen`. Idempotent. */
  start(): Promise<void>;
  /** Starts an HTTP server on `port` (0 picks one) serving everything. */
  listen(port: number, host?: string): Promise<{ server: Server; port: number; url: string }>;
  /** Closes the sessions of one user (of one device, if given), e.g. after logout. */
  closeSessions(userId: string, deviceId: string | undefined, code: number, reason: string): void;
  /** This node's id (for discovery and cross-node routing). */
  readonly nodeId: string;
  /**
   * Graceful drain: refuses new sockets, deregisters from discovery, and closes every client with 1001 at a
   * random moment within `cluster.drainWindowMs`, so they reconnect elsewhere without a stampede.
   */
  drain(): Promise<void>;
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
  const hub = new LocalHub<ChatSession>();
  const nodeId = options.cluster?.nodeId ?? newPrefixedId('node');
  const cluster = options.cluster
    ? new ClusterSink(nodeId, hub, options.cluster.broker, logger, metrics, storage.chat)
    : undefined;
  const live: DeliverySink & EphemeralSink = cluster ?? hub;
  const service = new ChatService({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: config.limits,
    sink: {
      deliver(deliveries, origin) {
        live.deliver(deliveries, origin);
        push?.onDeliveries(deliveries);
      },
    },
    ephemeral: live,
    now: config.now,
  });
  const presence = new PresenceService(
    options.presence?.store ?? new MemoryPresenceStore(),
    storage.chat,
    live,
    logger,
    config.now,
    options.presence,
  );
  const push = options.push?.({
    isOnline: (userId) => presence.isOnline(userId),
    chat: storage.chat,
    logger,
    metrics,
  });
  const tokens = options.tokens ? new TokenService(options.tokens, storage.accounts, config.now) : undefined;
  const authenticator: Authenticator | undefined = options.authenticator ?? tokens;
  if (!authenticator) throw new TypeError('createNatterServer needs `tokens` or an `authenticator`');

  let draining = false;
  let started: Promise<void> | undefined;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  let registryTimer: ReturnType<typeof setInterval> | undefined;
  let announcedWsUrl = options.publicWsUrl;
  const httpServers: Server[] = [];
  const registry = options.cluster?.registry;
  const registryTtlMs = options.cluster?.registryTtlMs ?? 6_000;
  const capacity = options.cluster?.capacity ?? 10_000;
  const discoveryService = registry
    ? new DiscoveryService({
        registry,
        wsPath: config.wsPath,
        ...(options.cluster?.discovery ? { options: options.cluster.discovery } : {}),
        logger,
        metrics,
      })
    : undefined;
  const regionHeader = options.cluster?.discovery?.regionHeader ?? 'x-natter-region';

  const nodeInfo = (): NodeInfo | undefined =>
    announcedWsUrl === undefined
      ? undefined
      : {
          id: nodeId,
          wsUrl: announcedWsUrl,
          region: config.region,
          capacity,
          load: transport.size,
        };
  const announce = async () => {
    const info = nodeInfo();
    if (!registry || !info || draining || options.cluster?.announce === false) return;
    try {
      await registry.heartbeat(info, registryTtlMs);
    } catch (err) {
      metrics.errors.inc({ code: 'registry_heartbeat_failed' });
      logger.warn({ err }, 'registry heartbeat failed');
    }
  };

  const closeSessions = (userId: string, deviceId: string | undefined, code: number, reason: string) => {
    for (const endpoint of [...hub.endpointsOf(userId)]) {
      if (deviceId === undefined || endpoint.deviceId === deviceId) endpoint.close(code, reason);
    }
  };

  const transport = new WsTransport({
    config,
    logger,
    metrics,
    authenticate: (token) => authenticator.authenticate(token),
    isDraining: () => draining,
    accept: ({ principal, deviceId, connection }) => accept(principal, deviceId, connection),
  });

  // One object for every session (a copy per session would cost its size on each idle connection).
  const sessionDeps: SessionDeps = {
    service,
    presence,
    chat: storage.chat,
    hub,
    ephemeral: live,
    config,
    logger,
    metrics,
    ...(cluster ? { routing: cluster } : {}),
    expiry: new DeadlineQueue<ChatSession>(config.now),
  };

  function accept(
    principal: Principal,
    deviceId: string | undefined,
    connection: ClientConnection,
  ): ChatSession {
    const session = new ChatSession(
      newPrefixedId('conn'),
      deviceId ?? newPrefixedId('dev'),
      principal,
      connection,
      sessionDeps,
    );
    void session.start(session.connectionId);
    return session;
  }

  const api = createHttpApi({
    service,
    presence,
    ...(push ? { push } : {}),
    accounts: storage.accounts,
    authenticator,
    ...(tokens ? { tokens } : {}),
    allowSignup: options.tokens?.allowSignup ?? true,
    config,
    logger,
    metrics,
    discovery: async (request, query, clientIp) => {
      // The app's region wins; an edge's hint in a header stands in when the app named none.
      const hinted = request.headers.get(regionHeader)?.trim();
      const region =
        query.region ?? (hinted && hinted.length <= DISCOVERY_LIMITS.maxRegionLength ? hinted : undefined);
      if (discoveryService) return discoveryService.answer({ ...query, region }, clientIp);
      if (draining) throw new NatterError(ErrorCode.UNAVAILABLE, 'draining', 1_000);
      const wsUrl = options.publicWsUrl ?? wsUrlFor(request, config.wsPath);
      const self = { id: nodeId, wsUrl, region: config.region, capacity, load: transport.size };
      return toAnswer([candidateOf(self, config.wsPath)]);
    },
    node: () => ({ nodeId, region: config.region, draining }),
    onLogout: (userId, deviceId) => {
      const keys = [...hub.endpointsOf(userId)]
        .filter((e) => deviceId === undefined || e.deviceId === deviceId)
        .map((e) => e.connectionId);
      closeSessions(userId, deviceId, CloseCode.SESSION_REVOKED, 'logged out');
      void presence.loggedOut(userId, keys);
      // A logged-out device must not keep receiving notifications.
      push
        ?.removeSubscriptions(userId, deviceId)
        .catch((err: unknown) => logger.warn({ err }, 'push unsubscribe failed'));
    },
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

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const deadline = config.now() - config.limits.heartbeatTimeoutMs;
      for (const session of [...hub.all()]) {
        if (session.lastSeenAt < deadline) session.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
      }
      await presence.sweep(hub.all());
    } catch (err) {
      logger.warn({ err }, 'sweep failed');
    } finally {
      sweeping = false;
    }
  };

  const server: NatterServer = {
    nodeId,
    storage,
    accept,
    service,
    presence,
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
        await push?.start();
        const shortest = Math.min(config.limits.heartbeatTimeoutMs, presence.graceMs);
        const every = Math.max(100, Math.min(5_000, Math.floor(shortest / 4)));
        sweeper = setInterval(() => void sweep(), every);
        sweeper.unref?.();
        if (registry) {
          registryTimer = setInterval(() => void announce(), Math.max(200, Math.floor(registryTtlMs / 3)));
          registryTimer.unref?.();
        }
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
      const url = `http://${shownHost}:${actual}`;
      announcedWsUrl ??= `${url.replace(/^http/, 'ws')}${config.wsPath}`;
      await announce();
      return { server: httpServer, port: actual, url };
    },
    closeSessions,
    async drain() {
      if (draining) return;
      draining = true;
      if (registryTimer) clearInterval(registryTimer);
      await registry?.deregister(nodeId).catch((err: unknown) => logger.warn({ err }, 'deregister failed'));
      // Clients leave at random moments across the window, so they do not stampede the other nodes.
      const windowMs = options.cluster?.drainWindowMs ?? 3_000;
      await Promise.all(
        [...hub.all()].map(
          (session) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                session.close(CloseCode.GOING_AWAY, 'draining');
                resolve();
              }, Math.random() * windowMs);
              timer.unref?.();
            }),
        ),
      );
    },
    async close() {
      draining = true;
      discoveryService?.close();
      if (sweeper) clearInterval(sweeper);
      if (registryTimer) clearInterval(registryTimer);
      await registry?.deregister(nodeId).catch(() => {});
      await cluster?.close();
      for (const endpoint of [...hub.all()]) endpoint.close(CloseCode.GOING_AWAY, 'server closing');
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
      await push?.stop();
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
