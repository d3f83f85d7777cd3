import {
  type DiscoveryAnswer,
  type DiscoveryCandidate,
  type DiscoveryQuery,
  ErrorCode,
  NatterError,
  pingUrlFor,
} from '@natter/protocol';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import type { NodeInfo, NodeRegistry } from '../ports/registry.js';
import { NodeHealth, type ProbeOutcome } from './node-health.js';
import { fullness, selectCandidates } from './recommend.js';

/** Options of discovery (`cluster.discovery`). */
export interface DiscoveryOptions {
  /** Candidates in one answer. @default 3 */
  candidates?: number;
  /**
   * Every registered node is probed (`GET /v1/ping`) this often while discovery is in use, ms; `0` probes only
   * nodes that clients report. @default 2000
   */
  probeIntervalMs?: number;
  /** Time a probe may take before the node counts as down, ms. @default 1000 */
  probeTimeoutMs?: number;
  /** `retryAfterMs` of the 503 answered when no node is healthy, ms. @default 1000 */
  noNodeRetryAfterMs?: number;
  /**
   * Request header with a region hint set by an edge proxy or load balancer (e.g. from the client's address),
   * used when the client names no `region`. @default 'x-natter-region'
   */
  regionHeader?: string;
  /** Distinct clients whose reports exclude a node for everyone, within `reportWindowMs`. @default 3 */
  reportThreshold?: number;
  /** How long a client's report of a node counts, ms. @default 10000 */
  reportWindowMs?: number;
}

/** Probes one node; resolves with what it found, never rejects. */
export type NodeProbe = (node: NodeInfo, timeoutMs: number) => Promise<ProbeOutcome>;

/** Dependencies of {@link DiscoveryService}. */
export interface DiscoveryDeps {
  registry: NodeRegistry;
  /** Path of the WebSocket endpoint, to derive each node's ping URL from its announced WebSocket URL. */
  wsPath: string;
  options?: DiscoveryOptions;
  logger: Logger;
  metrics: NatterMetrics;
  /** @default a `fetch` of the node's ping URL */
  probe?: NodeProbe;
  /** @default Date.now */
  now?: () => number;
  /** @default Math.random */
  random?: () => number;
}

// A node reported by a client is probed at once, but not more often than this, ms.
const MIN_PROBE_GAP_MS = 250;

/**
 * Answers `GET /v1/discovery` from the node registry, minus the nodes that are not healthy now: the
 * registry alone only drops a crashed node when its entry expires (seconds), so discovery also probes each
 * node's `GET /v1/ping` and listens to clients that report a node they could not reach. A draining node is
 * never recommended. When every registered node fails the probes (the API node's own network may be what
 * broke), the answer falls back to the registry's list rather than refusing everyone.
 */
export class DiscoveryService {
  private readonly health: NodeHealth;
  private readonly probe: NodeProbe;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly inFlight = new Set<string>();
  private listing: Promise<NodeInfo[]> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(private readonly deps: DiscoveryDeps) {
    const options = deps.options ?? {};
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.health = new NodeHealth({
      now: this.now,
      ...(options.reportThreshold !== undefined ? { reportThreshold: options.reportThreshold } : {}),
      ...(options.reportWindowMs !== undefined ? { reportWindowMs: options.reportWindowMs } : {}),
    });
    this.probe =
      deps.probe ?? ((node, timeoutMs) => fetchProbe(pingUrlFor(node.wsUrl, deps.wsPath), timeoutMs));
  }

  /** The request header carrying an edge's region hint. */
  get regionHeader(): string {
    return this.deps.options?.regionHeader ?? 'x-natter-region';
  }

  /**
   * The candidates for one client. `reporter` identifies the client (its address) for reports. Rejects with
   * `NATTER_UNAVAILABLE` (and `retryAfterMs`) when no node can be recommended.
   */
  async answer(query: DiscoveryQuery, reporter: string | undefined): Promise<DiscoveryAnswer> {
    const nodes = await this.list();
    this.health.retain(new Set(nodes.map((n) => n.id)));
    this.startProbing();
    const failed = new Set(query.failed ?? []);
    for (const node of nodes) {
      if (!failed.has(node.id)) continue;
      if (reporter !== undefined) this.health.report(node.id, reporter);
      if (this.now() - this.health.probedAt(node.id) >= MIN_PROBE_GAP_MS) void this.probeNode(node);
    }
    const usable = nodes.filter((n) => !this.health.isDraining(n.id));
    const healthy = usable.filter((n) => !this.health.isExcluded(n.id));
    // The client's own reports only demote: with nothing else healthy it gets those nodes back.
    const preferred = healthy.filter((n) => !failed.has(n.id));
    const pool = preferred.length > 0 ? preferred : healthy.length > 0 ? healthy : usable;
    if (pool.length === 0) {
      const retryAfterMs = this.deps.options?.noNodeRetryAfterMs ?? 1_000;
      throw new NatterError(ErrorCode.UNAVAILABLE, 'no healthy chat node', retryAfterMs);
    }
    const chosen = selectCandidates(pool, {
      region: query.region,
      max: this.deps.options?.candidates ?? 3,
      random: this.random,
    });
    return toAnswer(chosen.map((n) => candidateOf(n, this.deps.wsPath)));
  }

  /** Stops the background probes. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One registry read shared by every request that arrives while it runs (a reconnect storm asks at once). */
  private list(): Promise<NodeInfo[]> {
    this.listing ??= this.deps.registry.list().finally(() => {
      this.listing = undefined;
    });
    return this.listing;
  }

  private startProbing(): void {
    const every = this.deps.options?.probeIntervalMs ?? 2_000;
    if (this.timer || this.closed || every <= 0) return;
    this.timer = setInterval(() => {
      this.list().then(
        (nodes) => {
          for (const node of nodes) void this.probeNode(node);
        },
        (err: unknown) => this.deps.logger.warn({ err }, 'discovery: registry list failed'),
      );
    }, every);
    this.timer.unref?.();
  }

  private async probeNode(node: NodeInfo): Promise<void> {
    if (this.inFlight.has(node.id) || this.closed) return;
    this.inFlight.add(node.id);
    try {
      const before = this.health.isExcluded(node.id);
      const outcome = await this.probe(node, this.deps.options?.probeTimeoutMs ?? 1_000);
      this.health.probed(node.id, outcome);
      if (outcome !== 'ok') this.deps.metrics.errors.inc({ code: `discovery_probe_${outcome}` });
      if (before !== this.health.isExcluded(node.id)) {
        this.deps.logger.info({ nodeId: node.id, outcome }, 'discovery: node health changed');
      }
    } finally {
      this.inFlight.delete(node.id);
    }
  }
}

/** What a client sees of a registry entry. */
export function candidateOf(node: NodeInfo, wsPath: string): DiscoveryCandidate {
  const pingUrl = pingUrlFor(node.wsUrl, wsPath);
  const load = fullness(node);
  return {
    nodeId: node.id,
    wsUrl: node.wsUrl,
    ...(pingUrl ? { pingUrl } : {}),
    region: node.region,
    load: Number.isFinite(load) ? Math.round(load * 1000) / 1000 : 1,
  };
}

/** The discovery answer for an ordered, non-empty list of candidates. */
export function toAnswer(candidates: DiscoveryCandidate[]): DiscoveryAnswer {
  const first = candidates[0]!;
  return { wsUrl: first.wsUrl, region: first.region, candidates };
}

/**
 * The default probe: `GET` the node's ping URL. 503 is a draining node; any other answer means the node is
 * up (an older node without `/v1/ping` answers 404 and is up); no answer within the timeout means down.
 */
export async function fetchProbe(url: string | undefined, timeoutMs: number): Promise<ProbeOutcome> {
  if (!url) return 'ok';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { signal: controller.signal, headers: { accept: 'application/json' } });
    await response.arrayBuffer().catch(() => undefined);
    return response.status === 503 ? 'draining' : 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
