import {
  CloseCode,
  DISCOVERY_LIMITS,
  type DiscoveryAnswer,
  type DiscoveryQuery,
  ErrorCode,
  type EventInput,
  NatterError,
  newPrefixedId,
  type RateLimit,
} from '@natter/protocol';
import { AccountGate } from '../accounts/account-gate.js';
import { AccountService } from '../accounts/account-service.js';
import { AuthLimits } from '../accounts/auth-limits.js';
import { RevocationCache } from '../accounts/revocation-cache.js';
import { TokenService } from '../accounts/token-service.js';
import { AppChat } from '../chat/app-chat.js';
import { ChatService } from '../chat/chat-service.js';
import { deliverLateEntries } from '../chat/late-entries.js';
import { LocalHub } from '../chat/local-hub.js';
import { ClusterSink, type SessionCloseOrder } from '../cluster/cluster-sink.js';
import { candidateOf, DiscoveryService, toAnswer } from '../cluster/discovery-service.js';
import { type NatterServerOptions, type ResolvedConfig, resolveConfig } from '../config.js';
import { DeviceDirectory } from '../e2ee/device-directory.js';
import { EncryptedChannels } from '../e2ee/encrypted-channels.js';
import { ServerEvents } from '../events/server-events.js';
import { createHttpApi, type HttpApi } from '../http/api.js';
import { BlockList } from '../moderation/block-list.js';
import { DirectGuard } from '../moderation/direct-guard.js';
import { GroupModeration } from '../moderation/group-moderation.js';
import { UserModeration } from '../moderation/user-moderation.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type NatterMetrics } from '../observability/metrics.js';
import type { Authenticator, Principal } from '../ports/authenticator.js';
import type { ClientConnection } from '../ports/connection.js';
import type { DeliverySink, EphemeralSink } from '../ports/delivery.js';
import type { EventSink } from '../ports/events.js';
import type { MediaPlug } from '../ports/media.js';
import type { PushGateway } from '../ports/push.js';
import type { StorageAdapter } from '../ports/storage.js';
import { MemoryPresenceStore } from '../presence/memory-presence-store.js';
import { PresenceService } from '../presence/presence-service.js';
import { ApiKeys } from '../server-api/api-keys.js';
import { ServerApiService } from '../server-api/server-api-service.js';
import { ChatSession, type SessionDeps } from '../ws/chat-session.js';
import { DeadlineQueue } from '../ws/deadline-queue.js';
import { UserQuotas } from '../ws/user-quotas.js';
import { WsTransport } from '../ws/ws-transport.js';

/** Every part of one node, built and connected but not started: what the lifecycle runs. */
export interface NodeParts {
  readonly nodeId: string;
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly metrics: NatterMetrics;
  readonly storage: StorageAdapter;
  readonly hub: LocalHub<ChatSession>;
  readonly cluster: ClusterSink | undefined;
  readonly service: ChatService;
  readonly accounts: AccountService;
  readonly presence: PresenceService;
  readonly push: PushGateway | undefined;
  /**
   * The events hook: committed messages become events by themselves; parts that commit something without
   * a sync entry (reports) call `events.emit(...)` after their commit.
   */
  readonly events: ServerEvents;
  /** Uploads, downloads and attachments; started and stopped with the node. */
  readonly media: MediaPlug | undefined;
  /** Where events go (event webhooks); started and stopped with the node. */
  readonly eventSink: EventSink | undefined;
  /** The server API's domain (app backends). */
  readonly serverApi: ServerApiService;
  readonly tokens: TokenService | undefined;
  /** Every token passes it: unknown users are refused or provisioned, deactivated ones refused. */
  readonly gate: AccountGate;
  readonly transport: WsTransport;
  readonly api: HttpApi;
  /** Answers discovery from the registry with health checks; absent without a registry. */
  readonly discovery: DiscoveryService | undefined;
  /** Connections this node announces it is sized for. */
  readonly capacity: number;
  /** Opens a protocol session over any transport. */
  accept(principal: Principal, deviceId: string | undefined, connection: ClientConnection): ChatSession;
  /** Closes the sessions of one user (of one device, if given). */
  closeSessions(userId: string, deviceId: string | undefined, code: number, reason: string): void;
  /** Whether the node refuses new sockets (draining or closed); set by the lifecycle. */
  draining: boolean;
  /** The WebSocket URL this node announces; learnt from `listen()` when not configured. */
  announcedWsUrl: string | undefined;
}

/**
 * Builds a node's parts from its options and connects them: nothing starts, nothing opens. Throws for
 * options that can never work (no authenticator, a short secret, bad limits).
 */
export function wireNode(options: NatterServerOptions): NodeParts {
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
  const closeHere = (order: SessionCloseOrder) => {
    for (const endpoint of [...hub.endpointsOf(order.userId)]) {
      if (order.deviceId !== undefined && endpoint.deviceId !== order.deviceId) continue;
      if (order.exceptDeviceId !== undefined && endpoint.deviceId === order.exceptDeviceId) continue;
      endpoint.close(order.code, order.reason);
    }
  };
  cluster?.onCloseOrder(closeHere);
  /** Logout, password change and deactivation close the user's sockets on every node, not only this one. */
  const closeEverywhere = (order: SessionCloseOrder) =>
    cluster ? cluster.closeSessions(order) : closeHere(order);
  let push: PushGateway | undefined;
  const eventSink = options.events?.({ logger, metrics });
  const events = new ServerEvents({ sink: eventSink, logger, metrics, now: config.now });
  /** Every commit's entries: live delivery, then the push and event hints. */
  const committed: DeliverySink = {
    deliver(deliveries, origin) {
      live.deliver(deliveries, origin);
      push?.onDeliveries(deliveries);
      events.fromDeliveries(deliveries);
    },
  };
  // Entries a store fanned out after their write returned (the sharded store's worker) go live too.
  storage.chat.onLateEntries?.(
    deliverLateEntries(storage.chat, committed, (err) => logger.warn({ err }, 'late entries not delivered')),
  );
  const media = options.media?.({
    logger,
    metrics,
    authenticate: async (token) => (await gate.authenticate(token)).userId,
    isMember: async (channelId, userId) => (await storage.chat.getMember(channelId, userId)) !== undefined,
  });
  const moderation = moderationParts(storage, committed, config.now, config.resources.reportsPerUser, (e) =>
    events.emit(e),
  );
  // The Delivery Service keeps its rows in the store's keyed records (those of the moderation capability).
  const e2ee = moderation
    ? {
        devices: new DeviceDirectory({ chat: storage.chat, now: config.now }),
        channels: new EncryptedChannels({
          chat: storage.chat,
          sink: committed,
          now: config.now,
          ...(media ? { media } : {}),
        }),
      }
    : undefined;
  const service = new ChatService({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: config.limits,
    sink: committed,
    ephemeral: live,
    ...(media ? { media } : {}),
    now: config.now,
    ...(options.moderation ? { moderation: options.moderation } : {}),
    ...(moderation ? { rules: moderation.rules } : {}),
    ...(e2ee ? { encryption: e2ee.channels } : {}),
  });
  const presence = new PresenceService(
    options.presence?.store ?? new MemoryPresenceStore(),
    storage.chat,
    live,
    logger,
    config.now,
    {
      ...options.presence,
      ...(moderation ? { hiddenFrom: (userId: string) => moderation.rules.blocks.hiddenFrom(userId) } : {}),
    },
  );
  push = options.push?.({
    isOnline: (userId) => presence.isOnline(userId),
    seenUpTo: async (channelId, userId) => {
      const member = await storage.chat.getMember(channelId, userId);
      return member && Math.max(member.deliveredSeq, member.readSeq);
    },
    messageAuthor: async (channelId, seq) => {
      const message = await storage.chat.getMessage(channelId, seq);
      return message && message.deletedAt === undefined ? message.senderId : undefined;
    },
    logger,
    countError: (code) => metrics.errors.inc({ code }),
  });
  const revocations = new RevocationCache(storage.accounts, {
    ...(options.tokens?.revocationCacheMs === undefined ? {} : { cacheMs: options.tokens.revocationCacheMs }),
    now: config.now,
  });
  const tokens = options.tokens
    ? new TokenService(options.tokens, storage.accounts, config.now, () => revocations.clear())
    : undefined;
  const verifier: Authenticator | undefined = options.authenticator ?? tokens;
  if (!verifier) throw new TypeError('createNatterServer needs `tokens` or an `authenticator`');
  const gate = new AccountGate(verifier, storage.accounts, { logger, now: config.now, revocations });
  const authenticator: Authenticator = gate;
  const accounts = new AccountService({
    accounts: storage.accounts,
    tokens,
    limits: new AuthLimits(config.resources, config.now),
    allowSignup: options.tokens?.allowSignup ?? true,
    minPasswordScore: options.tokens?.minPasswordScore ?? 2,
    now: config.now,
  });

  const appChat = new AppChat({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: config.limits,
    sink: committed,
    appUserId: options.serverApi?.appUserId ?? 'app',
    now: config.now,
    ...(e2ee ? { encryption: e2ee.channels } : {}),
  });
  const apiKeys = new ApiKeys(options.serverApi?.keys ?? []);
  const serverApi = new ServerApiService({
    accounts: storage.accounts,
    chat: storage.chat,
    service,
    appChat,
    tokens,
    gate,
    closeSessions: (userId, code, reason) => parts.closeSessions(userId, undefined, code, reason),
    now: config.now,
  });

  const registry = options.cluster?.registry;
  const discovery = registry
    ? new DiscoveryService({
        registry,
        wsPath: config.wsPath,
        ...(options.cluster?.discovery ? { options: options.cluster.discovery } : {}),
        logger,
        metrics,
      })
    : undefined;

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
    quotas: new UserQuotas(config.resources, config.now),
  };

  const parts: NodeParts = {
    nodeId,
    config,
    logger,
    metrics,
    storage,
    hub,
    cluster,
    service,
    accounts,
    presence,
    push,
    events,
    eventSink,
    media,
    serverApi,
    tokens,
    gate,
    discovery,
    capacity: options.cluster?.capacity ?? 10_000,
    draining: false,
    announcedWsUrl: options.publicWsUrl,
    accept(principal, deviceId, connection) {
      const session = new ChatSession(
        newPrefixedId('conn'),
        deviceId ?? newPrefixedId('dev'),
        principal,
        connection,
        sessionDeps,
      );
      void session.start(session.connectionId);
      return session;
    },
    closeSessions(userId, deviceId, code, reason) {
      closeEverywhere({ userId, ...(deviceId === undefined ? {} : { deviceId }), code, reason });
    },
    transport: new WsTransport({
      config,
      logger,
      metrics,
      authenticate: (token) => authenticator.authenticate(token),
      isDraining: () => parts.draining,
      peekUser: (userId) => sessionDeps.quotas.peekOpen(userId, config.overloadRetryAfterMs),
      accept: ({ principal, deviceId, connection }) => parts.accept(principal, deviceId, connection),
    }),
    api: createHttpApi({
      service,
      accounts,
      presence,
      ...(push ? { push } : {}),
      ...(media ? { media } : {}),
      ...(moderation ? { moderation: { users: moderation.users, groups: moderation.rules.groups } } : {}),
      ...(e2ee ? { e2ee } : {}),
      serverApi: { keys: apiKeys, service: serverApi, events: eventSink },
      authenticator,
      config,
      logger,
      metrics,
      discovery: (request, query, clientIp) => discover(parts, options, request, query, clientIp),
      node: () => ({ nodeId, region: config.region, draining: parts.draining }),
      onPasswordChanged: (userId, keptDeviceId) =>
        closeEverywhere({
          userId,
          exceptDeviceId: keptDeviceId,
          code: CloseCode.SESSION_REVOKED,
          reason: 'password changed',
        }),
      onLogout: (userId, deviceId) => {
        const keys = [...hub.endpointsOf(userId)]
          .filter((e) => deviceId === undefined || e.deviceId === deviceId)
          .map((e) => e.connectionId);
        parts.closeSessions(userId, deviceId, CloseCode.SESSION_REVOKED, 'logged out');
        void presence.loggedOut(userId, keys);
        // A logged-out device must not keep receiving notifications.
        push
          ?.removeSubscriptions(userId, deviceId)
          .catch((err: unknown) => logger.warn({ err }, 'push unsubscribe failed'));
      },
    }),
  };
  return parts;
}

/** The nodes a client should connect to: the registry's healthy ones, or this node alone without one. */
async function discover(
  parts: NodeParts,
  options: NatterServerOptions,
  request: Request,
  query: DiscoveryQuery,
  clientIp: string | undefined,
): Promise<DiscoveryAnswer> {
  // The app's region wins; an edge's hint in a header stands in when the app named none.
  const header = options.cluster?.discovery?.regionHeader ?? 'x-natter-region';
  const hinted = request.headers.get(header)?.trim();
  const region =
    query.region ?? (hinted && hinted.length <= DISCOVERY_LIMITS.maxRegionLength ? hinted : undefined);
  if (parts.discovery) return parts.discovery.answer({ ...query, region }, clientIp);
  if (parts.draining) throw new NatterError(ErrorCode.UNAVAILABLE, 'draining', 1_000);
  const wsUrl = options.publicWsUrl ?? wsUrlFor(request, parts.config.wsPath);
  const self = {
    id: parts.nodeId,
    wsUrl,
    region: parts.config.region,
    capacity: parts.capacity,
    load: parts.transport.size,
  };
  return toAnswer([candidateOf(self, parts.config.wsPath)]);
}

function wsUrlFor(request: Request, path: string): string {
  const url = new URL(request.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = path;
  url.search = '';
  return url.toString();
}

/** Blocks, reports, bans and slow mode, when the store keeps moderation rows. */
function moderationParts(
  storage: StorageAdapter,
  sink: DeliverySink,
  now: () => number,
  reportRate: RateLimit,
  emit: (event: EventInput) => void,
) {
  const reads = storage.chat.moderation;
  if (!storage.manifest.capabilities.moderation || !reads) return undefined;
  const blocks = new BlockList({ reads, accounts: storage.accounts, now });
  const groups = new GroupModeration({ chat: storage.chat, accounts: storage.accounts, sink, now });
  const users = new UserModeration({
    chat: storage.chat,
    accounts: storage.accounts,
    blocks,
    emit,
    reportRate,
    now,
  });
  return { users, rules: { blocks, groups, direct: new DirectGuard(storage.chat, blocks) } };
}
