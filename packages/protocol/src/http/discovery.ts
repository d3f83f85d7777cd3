import * as v from 'valibot';

/**
 * Service discovery on the wire: `GET /v1/discovery` answers a short ordered list of chat nodes the client
 * may connect to, and `GET /v1/ping` on every chat node answers at once so a client can measure its round
 * trip to each candidate. docs/api.md and docs/scaling.md describe both.
 */

/** Bounds of discovery input and output. */
export const DISCOVERY_LIMITS = {
  /** Candidates in one answer, at most. */
  maxCandidates: 8,
  /** Node ids a client may report as failed in one discovery request (`failed=`). */
  maxReported: 8,
  /** Longest node id. */
  maxNodeIdLength: 128,
  /** Longest region name. */
  maxRegionLength: 64,
  /** Longest URL. */
  maxUrlLength: 2048,
} as const;

/** Query parameters of `GET /v1/discovery`. */
export const DISCOVERY_QUERY = {
  /** The region the app prefers (its `region` option); nodes of that region come first. */
  region: 'region',
  /**
   * Comma-separated ids of nodes this client just failed to reach: discovery leaves them out of this client's
   * answer while others are healthy, and probes them at once.
   */
  failed: 'failed',
} as const;

/** Response headers of `GET /v1/ping`, for clients that read headers only. */
export const PING_HEADERS = {
  node: 'x-natter-node',
  region: 'x-natter-region',
} as const;

/** Path of the ping endpoint on every node. */
export const PING_PATH = '/v1/ping';

const NodeIdSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(DISCOVERY_LIMITS.maxNodeIdLength));
const RegionSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(DISCOVERY_LIMITS.maxRegionLength));
const WsUrlSchema = v.pipe(
  v.string(),
  v.maxLength(DISCOVERY_LIMITS.maxUrlLength),
  v.regex(/^wss?:\/\/[^\s/?#]+[^\s]*$/i, 'must be a ws:// or wss:// URL'),
);
const HttpUrlSchema = v.pipe(
  v.string(),
  v.maxLength(DISCOVERY_LIMITS.maxUrlLength),
  v.regex(/^https?:\/\/[^\s/?#]+[^\s]*$/i, 'must be an http:// or https:// URL'),
);

/** One chat node a client may connect to. */
export const DiscoveryCandidateSchema = v.object({
  /** The node's id (what a client reports in `failed=`). */
  nodeId: NodeIdSchema,
  /** Where to open the WebSocket. */
  wsUrl: WsUrlSchema,
  /** The node's `GET /v1/ping`, for measuring the round trip; absent when the node has none. */
  pingUrl: v.optional(HttpUrlSchema),
  region: RegionSchema,
  /** Connections ÷ capacity at the node's last registry heartbeat; 1 or more is full. */
  load: v.pipe(v.number(), v.minValue(0), v.maxValue(1_000_000)),
});

/** One chat node a client may connect to. */
export type DiscoveryCandidate = v.InferOutput<typeof DiscoveryCandidateSchema>;

/**
 * `200` answer of `GET /v1/discovery`. `wsUrl` and `region` are the first candidate's, kept so clients that
 * predate candidate lists still connect. `candidates` is ordered by the server's preference (healthy, not
 * draining, the client's region first, less loaded first with some randomness so a crowd spreads); a client
 * measures the round trip to each and connects to the fastest. No healthy node is answered `503
 * NATTER_UNAVAILABLE` with `retryAfterMs`, never an empty list; clients treat an empty list the same way.
 */
export const DiscoveryAnswerSchema = v.object({
  wsUrl: WsUrlSchema,
  region: RegionSchema,
  candidates: v.optional(
    v.pipe(v.array(DiscoveryCandidateSchema), v.maxLength(DISCOVERY_LIMITS.maxCandidates)),
  ),
});

/** `200` answer of `GET /v1/discovery`. */
export type DiscoveryAnswer = v.InferOutput<typeof DiscoveryAnswerSchema>;

/** What a client may ask discovery for (the query string, parsed). */
export const DiscoveryQuerySchema = v.object({
  region: v.optional(RegionSchema),
  failed: v.optional(v.pipe(v.array(NodeIdSchema), v.maxLength(DISCOVERY_LIMITS.maxReported))),
});

/** What a client may ask discovery for (the query string, parsed). */
export type DiscoveryQuery = v.InferOutput<typeof DiscoveryQuerySchema>;

/** `200` answer of `GET /v1/ping` (a draining node answers `503 NATTER_UNAVAILABLE`). */
export const PingAnswerSchema = v.object({
  nodeId: NodeIdSchema,
  region: RegionSchema,
  status: v.literal('ok'),
});

/** `200` answer of `GET /v1/ping`. */
export type PingAnswer = v.InferOutput<typeof PingAnswerSchema>;

/**
 * Validates a discovery answer from the network; `undefined` when it is not one. Unknown fields are dropped,
 * so a newer server's additions never reach the client's state.
 */
export function parseDiscoveryAnswer(value: unknown): DiscoveryAnswer | undefined {
  const result = v.safeParse(DiscoveryAnswerSchema, value);
  return result.success ? result.output : undefined;
}

/**
 * Reads the discovery query from a URL's search parameters; `undefined` when a value is malformed (the
 * route answers 400). `failed` is a comma-separated list; empty items are ignored.
 */
export function parseDiscoveryQuery(params: URLSearchParams): DiscoveryQuery | undefined {
  const region = params.get(DISCOVERY_QUERY.region);
  const failed = params.get(DISCOVERY_QUERY.failed);
  const raw = {
    ...(region !== null && region !== '' ? { region } : {}),
    ...(failed !== null ? { failed: failed.split(',').filter((id) => id !== '') } : {}),
  };
  const result = v.safeParse(DiscoveryQuerySchema, raw);
  return result.success ? result.output : undefined;
}

/**
 * The ping URL of a node, from its WebSocket URL: same host and scheme family, the path's prefix kept (a node
 * reached as `wss://edge/eu-1/v1/ws` pings at `https://edge/eu-1/v1/ping`). `wsPath` is the path of the
 * WebSocket endpoint (`/v1/ws` by default). `undefined` when `wsUrl` is not a ws(s) URL.
 */
export function pingUrlFor(wsUrl: string, wsPath = '/v1/ws'): string | undefined {
  const match = /^(wss?):\/\/([^/?#\s]+)([^?#\s]*)/i.exec(wsUrl);
  if (!match) return undefined;
  const [, scheme, host, path = ''] = match;
  const prefix = path.endsWith(wsPath) ? path.slice(0, -wsPath.length) : '';
  return `${scheme!.toLowerCase() === 'wss' ? 'https' : 'http'}://${host}${prefix.replace(/\/+$/, '')}${PING_PATH}`;
}
