import {
  DEFAULT_LIMITS,
  DEFAULT_RESOURCE_LIMITS,
  type FrameRate,
  type ProtocolLimits,
  type RateLimitedFrameKind,
  type ResourceLimits,
} from '@natter/protocol';
import type { ModerationOptions } from './chat/before-send.js';
import type { DiscoveryOptions } from './cluster/discovery-service.js';
import { HostAllowlist } from './http/host-allowlist.js';
import type { Logger } from './observability/logger.js';
import type { NatterMetrics } from './observability/metrics.js';
import type { Authenticator } from './ports/authenticator.js';
import type { Broker } from './ports/broker.js';
import type { EventSinkFactory } from './ports/events.js';
import type { MediaPlugFactory } from './ports/media.js';
import type { PresenceStore } from './ports/presence.js';
import type { PushGatewayFactory } from './ports/push.js';
import type { NodeRegistry } from './ports/registry.js';
import type { StorageAdapter } from './ports/storage.js';
import type { PresenceOptions } from './presence/presence-service.js';
import type { ServerApiOptions } from './server-api/api-keys.js';

/** Options of the built-in account and token service (signup, login, refresh). */
export interface TokenOptions {
  /**
   * HS256 secret for access tokens, at least 32 bytes. Give the same secret to every node of a cluster.
   * The reference server reads `NATTER_TOKEN_SECRET` or keeps a generated one in its data directory.
   */
  secret: string | Uint8Array;
  /** Access token lifetime, seconds. @default 900 */
  accessTtlSeconds?: number;
  /** Refresh token lifetime, seconds. @default 2592000 (30 days) */
  refreshTtlSeconds?: number;
  /** Whether `POST /v1/auth/signup` is open. @default true */
  allowSignup?: boolean;
  /**
   * Lowest zxcvbn score (0-4) a new password needs at signup and password change; below it the answer is
   * `NATTER_WEAK_PASSWORD`. 2 refuses common passwords (`password1`, `qwertyuiop`, `iloveyou123`). @default 2
   */
  minPasswordScore?: 0 | 1 | 2 | 3 | 4;
  /**
   * How long a node trusts that a session is not revoked without asking the store again, ms: the bound on
   * how late another node refuses a logged-out token. @default 2000
   */
  revocationCacheMs?: number;
}

/** Options for running several chat nodes. */
export interface ClusterOptions {
  broker: Broker;
  registry?: NodeRegistry;
  /** Unique id of this node. @default a random id */
  nodeId?: string;
  /**
   * Whether this node registers itself for discovery. `false` makes an API-only node that reads the registry
   * to answer `GET /v1/discovery` but never receives chat clients. @default true
   */
  announce?: boolean;
  /** Connections this node is sized for, announced to discovery. @default 10000 */
  capacity?: number;
  /** How long a registry entry lives without renewal, ms; renewed every third of it. @default 6000 */
  registryTtlMs?: number;
  /** Spread of client disconnects when draining, ms: clients leave at random times within it. @default 3000 */
  drainWindowMs?: number;
  /** How `GET /v1/discovery` chooses and checks nodes (with a `registry`). */
  discovery?: DiscoveryOptions;
}

/** Options of {@link createNatterServer}. Every limit has a documented default. */
export interface NatterServerOptions {
  /** Where users, channels, messages and sync logs live. Opened by `start()` unless already open. */
  storage: StorageAdapter;
  /**
   * natter's own accounts and tokens. Omit when the app brings its own `authenticator`;
   * then the signup/login/refresh endpoints answer 404.
   */
  tokens?: TokenOptions;
  /** Verifies bearer tokens; defaults to the built-in token service (which requires `tokens`). */
  authenticator?: Authenticator;
  /** Protocol limits; unspecified fields take {@link DEFAULT_LIMITS}. */
  limits?: Partial<ProtocolLimits>;
  /**
   * Origins allowed to open WebSockets and call the API from a browser. Requests without an Origin header
   * (native apps, servers) are allowed. `'*'` allows any origin. Same-origin pages (Origin host equal to
   * the Host header) are always allowed. @default []
   */
  allowedOrigins?: readonly string[] | '*';
  /**
   * Host header values this node answers (`name:port`, or `name` for ports 80/443); other requests get 403
   * and upgrades are refused, which stops DNS rebinding. `'*'` accepts any Host. Without it, `listen()`
   * allows the bound address (every local address for 0.0.0.0) plus `localhost` forms for loopback, and
   * the host of `publicWsUrl`; a server only mounted into another one accepts any Host. Set it behind a
   * proxy that forwards the public Host. @default the bound address
   */
  allowedHosts?: readonly string[] | '*';
  /**
   * When set, `GET /metrics` requires `Authorization: Bearer <metricsToken>` (else 401). Or keep
   * `/metrics` off the public network with a proxy rule. @default undefined (open)
   */
  metricsToken?: string;
  /** Time allowed for the WebSocket handshake including authentication, ms. @default 10000 */
  handshakeTimeoutMs?: number;
  /**
   * Bytes a connection may have queued before it counts as a slow consumer and is closed (1008). A shortcut
   * for `resourceLimits.maxBufferedBytes`, which it overrides. @default 1048576
   */
  maxBufferedBytes?: number;
  /**
   * Bounds against abuse: connections per user and per address, frame rates per socket and per user,
   * requests in flight, signup and login rates. Unspecified fields take {@link DEFAULT_RESOURCE_LIMITS};
   * `frameRates` merges per frame kind. docs/security.md lists them with what happens past each.
   */
  resourceLimits?: ResourceLimitOptions;
  /** Largest HTTP request body, bytes. @default 65536 */
  maxBodyBytes?: number;
  /**
   * Sockets this node holds at most. Past it, a new socket is closed at once with 1013 and
   * `retryAfterMs=overloadRetryAfterMs` in the reason, so clients go to another node or wait.
   * @default Infinity (no limit)
   */
  maxConnections?: number;
  /** The retry delay a full node names when it refuses a socket, ms. @default 2000 */
  overloadRetryAfterMs?: number;
  /** Path of the WebSocket endpoint. @default '/v1/ws' */
  wsPath?: string;
  /** Public WebSocket URL this node announces through discovery. @default derived from the request's Host */
  publicWsUrl?: string;
  /** Region this node runs in, for discovery. @default 'local' */
  region?: string;
  /** Presence timings and fanout threshold; `store` defaults to the in-process store. */
  presence?: PresenceOptions & { store?: PresenceStore };
  /**
   * Scale-out: with a broker, live traffic reaches users connected to other nodes; with a registry, the node
   * registers itself for discovery and `GET /v1/discovery` recommends the best live node.
   */
  cluster?: ClusterOptions;
  /** Push notifications for offline users, e.g. `createPushGateway(...)` from `@natter/push`. */
  push?: PushGatewayFactory;
  /**
   * The server API for app backends (`/v1/server/...`): API keys with scopes. Without keys its routes
   * answer 404. docs/server-api.md describes it.
   */
  serverApi?: ServerApiOptions;
  /**
   * Where events for the app's backend go (new messages, edits, deletes, membership, new channels,
   * reports), e.g. `createEventWebhooks(...)` from `@natter/webhooks`. Without it no events are kept.
   */
  events?: EventSinkFactory;
  /**
   * Moderation hooks: `beforeSend` runs the app's content filter (allow, reject, rewrite) before every
   * user's send is stored, with a deadline. docs/moderation.md has an example.
   */
  moderation?: ModerationOptions;
  /**
   * Uploads, downloads and attachments (`/v1/media`), e.g. `createMedia(...)` from `@natter/media`.
   * Without it the media routes answer 404 and a `send` with attachments is refused.
   */
  media?: MediaPlugFactory;
  logger?: Logger;
  metrics?: NatterMetrics;
  /** @default Date.now */
  now?: () => number;
}

/** Overrides of {@link ResourceLimits}; `frameRates` merges per frame kind. */
export type ResourceLimitOptions = Partial<Omit<ResourceLimits, 'frameRates'>> & {
  frameRates?: Partial<Record<RateLimitedFrameKind, Partial<FrameRate>>>;
};

/** {@link NatterServerOptions} with defaults applied. */
export interface ResolvedConfig {
  limits: ProtocolLimits;
  /** The Host allowlist; `listen()` adds the bound address to it unless `allowedHosts` was given. */
  hosts: HostAllowlist;
  resources: ResourceLimits;
  allowedOrigins: readonly string[] | '*';
  handshakeTimeoutMs: number;
  maxBufferedBytes: number;
  maxBodyBytes: number;
  maxConnections: number;
  overloadRetryAfterMs: number;
  wsPath: string;
  region: string;
  now: () => number;
}

/** Applies defaults and checks option values. */
export function resolveConfig(options: NatterServerOptions): ResolvedConfig {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  for (const [key, value] of Object.entries(limits)) {
    // editWindowMs alone may be 0, which means "no edit window".
    const lowest = key === 'editWindowMs' ? 0 : Number.MIN_VALUE;
    if (!Number.isFinite(value) || value < lowest)
      throw new RangeError(`limits.${key} must be a ${lowest === 0 ? 'non-negative' : 'positive'} number`);
  }
  return {
    limits,
    resources: resolveResources(options, limits),
    hosts: new HostAllowlist(options.allowedHosts),
    allowedOrigins: options.allowedOrigins ?? [],
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    maxBufferedBytes: options.maxBufferedBytes ?? options.resourceLimits?.maxBufferedBytes ?? 1024 * 1024,
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024,
    maxConnections: positiveOr(options.maxConnections, Number.POSITIVE_INFINITY, 'maxConnections'),
    overloadRetryAfterMs: positiveOr(options.overloadRetryAfterMs, 2_000, 'overloadRetryAfterMs'),
    wsPath: options.wsPath ?? '/v1/ws',
    region: options.region ?? 'local',
    now: options.now ?? Date.now,
  };
}

/**
 * Applies the defaults of {@link DEFAULT_RESOURCE_LIMITS}. The per-socket `send` rate is the protocol's
 * `sendsPerSecond`/`sendBurst` (clients learn it in `hello`), unless `frameRates.send.socket` names one.
 */
function resolveResources(options: NatterServerOptions, limits: ProtocolLimits): ResourceLimits {
  const given = options.resourceLimits ?? {};
  const frameRates = { ...DEFAULT_RESOURCE_LIMITS.frameRates };
  // A raised per-socket send rate raises the user's with it (twice the socket's), unless named below.
  frameRates.send = {
    socket: { perSecond: limits.sendsPerSecond, burst: limits.sendBurst },
    user: {
      perSecond: Math.max(frameRates.send.user.perSecond, 2 * limits.sendsPerSecond),
      burst: Math.max(frameRates.send.user.burst, 2 * limits.sendBurst),
    },
  };
  for (const [kind, rate] of Object.entries(given.frameRates ?? {}) as [
    RateLimitedFrameKind,
    Partial<FrameRate>,
  ][]) {
    frameRates[kind] = { ...frameRates[kind], ...rate };
  }
  for (const [kind, { socket, user }] of Object.entries(frameRates)) {
    for (const r of [socket, user]) {
      if (!(r.perSecond > 0) || !(r.burst >= 1))
        throw new RangeError(`resourceLimits.frameRates.${kind} needs perSecond > 0 and burst >= 1`);
    }
  }
  const { frameRates: _rates, ...scalars } = given;
  const resources: ResourceLimits = {
    ...DEFAULT_RESOURCE_LIMITS,
    ...scalars,
    maxBufferedBytes:
      options.maxBufferedBytes ?? given.maxBufferedBytes ?? DEFAULT_RESOURCE_LIMITS.maxBufferedBytes,
    frameRates,
  };
  for (const key of [
    'maxBufferedBytes',
    'maxConnectionsPerUser',
    'maxConnectionsPerAddress',
    'maxInFlightPerConnection',
    'maxInFlightPerUser',
    'maxRateLimitStrikes',
    'maxBadFrames',
  ] as const) {
    positiveOr(resources[key], 1, `resourceLimits.${key}`);
  }
  return resources;
}

function positiveOr(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (Number.isNaN(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

/**
 * Whether a browser Origin may connect. No Origin (non-browser clients) is allowed; otherwise the origin must
 * be listed or be the request's own origin: same host and same scheme (`http:`/`https:`; `ws:`/`wss:` count
 * as their HTTP twins), so a plain-HTTP page cannot ride an HTTPS server's sessions.
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[] | '*',
  scheme: 'http:' | 'https:' = 'http:',
): boolean {
  if (origin === undefined || allowed === '*' || allowed.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return url.host === host && url.protocol === scheme;
  } catch {
    return false;
  }
}
