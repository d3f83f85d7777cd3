import { DEFAULT_LIMITS, type ProtocolLimits } from '@natter/protocol';
import type { DiscoveryOptions } from './cluster/discovery-service.js';
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
  /** Time allowed for the WebSocket handshake including authentication, ms. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Bytes a connection may have queued before it counts as a slow consumer and is closed (1008). @default 1048576 */
  maxBufferedBytes?: number;
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
   * Uploads, downloads and attachments (`/v1/media`), e.g. `createMedia(...)` from `@natter/media`.
   * Without it the media routes answer 404 and a `send` with attachments is refused.
   */
  media?: MediaPlugFactory;
  logger?: Logger;
  metrics?: NatterMetrics;
  /** @default Date.now */
  now?: () => number;
}

/** {@link NatterServerOptions} with defaults applied. */
export interface ResolvedConfig {
  limits: ProtocolLimits;
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
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`limits.${key} must be a positive number`);
  }
  return {
    limits,
    allowedOrigins: options.allowedOrigins ?? [],
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024,
    maxConnections: positiveOr(options.maxConnections, Number.POSITIVE_INFINITY, 'maxConnections'),
    overloadRetryAfterMs: positiveOr(options.overloadRetryAfterMs, 2_000, 'overloadRetryAfterMs'),
    wsPath: options.wsPath ?? '/v1/ws',
    region: options.region ?? 'local',
    now: options.now ?? Date.now,
  };
}

function positiveOr(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (Number.isNaN(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

/**
 * Whether a browser Origin may connect. No Origin (non-browser clients) is allowed; otherwise the origin must
 * be listed or match the request's own host (same-origin pages are always allowed).
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[] | '*',
): boolean {
  if (origin === undefined || allowed === '*' || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
