import type { DiscoveryAnswer, DiscoveryCandidate } from '@natter/protocol';
import { toError } from './errors.js';

/** What the client tells discovery. */
export interface DiscoveryHint {
  /** The app's preferred region (`region` option). */
  region: string | undefined;
  /** Ids of nodes this client failed to reach just now. */
  failed: string[];
}

/** What discovery said: candidates, or explicitly that no node is healthy (HTTP 503). */
export type DiscoveryOutcome =
  | { kind: 'answer'; answer: DiscoveryAnswer }
  | { kind: 'none'; retryAfterMs: number | undefined };

/** Asks discovery; rejects when it cannot be reached or answers something unusable. */
export type DiscoverFn = (hint: DiscoveryHint) => Promise<DiscoveryOutcome>;

/** Measures one round trip to a node, ms; rejects when the node does not answer healthy within `timeoutMs`. */
export type PingFn = (node: DiscoveryCandidate, timeoutMs: number) => Promise<number>;

/** Options of {@link Placement} (the `placement` option of `ChatClient`, and `region`). */
export interface PlacementOptions {
  /** The app's preferred region: its nodes win over nearer ones of other regions. @default none */
  region?: string;
  /** Time one ping may take; a node that does not answer within it counts as unreachable, ms. @default 1000 */
  pingTimeoutMs?: number;
  /** Pings per candidate; the smallest round trip counts (the first one pays for connection setup). @default 3 */
  pingsPerNode?: number;
  /** Candidates measured at most per placement, in discovery's order. @default 4 */
  maxPinged?: number;
  /** How long a measured round trip is reused, ms. @default 300000 */
  rttTtlMs?: number;
  /** How long a discovery answer is reused to fail over without asking again, ms. @default 60000 */
  candidatesTtlMs?: number;
  /** How long a node that failed is avoided at first; doubles for each further failure, ms. @default 10000 */
  badForMs?: number;
  /** Longest a failed node is avoided, ms. @default 120000 */
  maxBadForMs?: number;
  /**
   * Round trips within this many ms of the fastest (or 20% of it, whichever is more) count as equal; among
   * equals the one with more free capacity is more likely chosen, ms. @default 10
   */
  equalRttMs?: number;
}

/** Dependencies of {@link Placement}: discovery, ping, clock and randomness, all injectable. */
export interface PlacementDeps {
  discover: DiscoverFn;
  ping: PingFn;
  /** The configured WebSocket URL, tried when discovery cannot be reached. */
  fallbackWsUrl: string;
  now: () => number;
  random: () => number;
}

/** A candidate node as placement chose it, with the round trip it measured (if it measured one). */
export type PlacedNode = DiscoveryCandidate & { rttMs: number | undefined };

/** Where to connect next, or that no node can be tried now (back off, then ask again). */
export type PlacementDecision =
  | { kind: 'node'; node: DiscoveryCandidate; rttMs: number | undefined }
  | { kind: 'none'; retryAfterMs: number | undefined; error: Error | undefined };

/**
 * What to do after a failed attempt: `now` when an untried candidate (or a discovery request) is left in
 * this round, `later` when the round is spent and the connection should back off first.
 */
export type FailoverAdvice = 'now' | 'later';

interface BadMark {
  /** Avoided until then while other nodes are usable. */
  until: number;
  /** Not tried at all before then: the delay the node itself named (`retryAfterMs`). */
  notBefore: number;
  strikes: number;
  lastFailAt: number;
}

interface Round {
  discovered: boolean;
  /** Discovery was asked after a failure in this round: the one "back to discovery at once" is spent. */
  discoveredAfterFailure: boolean;
  failures: number;
  discoveryFailed: boolean;
  lastResort: boolean;
  tried: Set<string>;
}

const FALLBACK_ID = 'configured';

/**
 * Chooses the chat node to connect to, and the next one when it fails. Discovery answers a few candidates;
 * the placement measures the round trip to each (a few pings, bounded in time and count, cached), connects to
 * the fastest healthy one, and remembers it. A node that fails is avoided for a while (longer each time it
 * fails again: a flapping node cannot pull the client back every few seconds), and the next candidate is tried
 * at once; when none is left, discovery is asked again at once, told which nodes failed. Attempts are grouped
 * in rounds separated by the connection's backoff: within a round each node is tried at most once and discovery
 * asked at most twice (once to start, once after failures), so a client never spins.
 */
export class Placement {
  private list: DiscoveryCandidate[] = [];
  private listAt = Number.NEGATIVE_INFINITY;
  private readonly bad = new Map<string, BadMark>();
  private readonly rtts = new Map<string, { ms: number; at: number }>();
  private chosen: DiscoveryCandidate | undefined;
  private round: Round = newRound();
  private readonly o: Required<Omit<PlacementOptions, 'region'>> & { region: string | undefined };

  constructor(
    private readonly deps: PlacementDeps,
    options: PlacementOptions = {},
  ) {
    this.o = {
      region: options.region,
      pingTimeoutMs: options.pingTimeoutMs ?? 1_000,
      pingsPerNode: Math.max(1, options.pingsPerNode ?? 3),
      maxPinged: Math.max(1, options.maxPinged ?? 4),
      rttTtlMs: options.rttTtlMs ?? 300_000,
      candidatesTtlMs: options.candidatesTtlMs ?? 60_000,
      badForMs: options.badForMs ?? 10_000,
      maxBadForMs: options.maxBadForMs ?? 120_000,
      equalRttMs: options.equalRttMs ?? 10,
    };
  }

  /** The node chosen last (connected to, or being connected to), with its measured round trip. */
  get current(): PlacedNode | undefined {
    return this.chosen ? { ...this.chosen, rttMs: this.rtts.get(this.chosen.nodeId)?.ms } : undefined;
  }

  /** Whether `nodeId` is being avoided now. */
  isBad(nodeId: string): boolean {
    return (this.bad.get(nodeId)?.until ?? 0) > this.deps.now();
  }

  /** Where to connect next. Never rejects. */
  async next(): Promise<PlacementDecision> {
    const current = this.chosen;
    if (current && this.fresh() && this.usable(current)) return this.pick(current);
    let pool = this.fresh() ? this.list.filter((n) => this.usable(n)) : [];
    let noNode: { retryAfterMs: number | undefined } | undefined;
    let error: Error | undefined;
    const round = this.round;
    const mayDiscover = !round.discovered || (round.failures > 0 && !round.discoveredAfterFailure);
    if (pool.length === 0 && mayDiscover) {
      round.discovered = true;
      if (round.failures > 0) round.discoveredAfterFailure = true;
      try {
        const outcome = await this.deps.discover({ region: this.o.region, failed: this.reportable() });
        if (outcome.kind === 'none' || (outcome.answer.candidates?.length ?? 1) === 0) {
          noNode = { retryAfterMs: outcome.kind === 'none' ? outcome.retryAfterMs : undefined };
        } else {
          this.list = candidatesOf(outcome.answer);
          this.listAt = this.deps.now();
        }
      } catch (err) {
        // Discovery is an optimisation: the configured endpoint may still work (e.g. behind a load balancer).
        error = toError(err);
        this.round.discoveryFailed = true;
      }
      if (!noNode) pool = this.known().filter((n) => this.usable(n));
    }
    pool = await this.measure(pool);
    let waitMs = noNode?.retryAfterMs;
    if (pool.length === 0 && !noNode && !this.round.lastResort) {
      // Every known node is being avoided: try the one whose mark ends first, once per round, so a client whose
      // only node restarted comes back at the pace of its backoff instead of waiting out the mark. A node that
      // named a delay is not tried before it.
      const now = this.deps.now();
      const untried = this.known().filter((n) => !this.round.tried.has(n.nodeId));
      const resort = untried
        .filter((n) => (this.bad.get(n.nodeId)?.notBefore ?? 0) <= now)
        .sort((a, b) => (this.bad.get(a.nodeId)?.until ?? 0) - (this.bad.get(b.nodeId)?.until ?? 0))[0];
      if (resort) {
        this.round.lastResort = true;
        pool = [resort];
      }
    }
    if (pool.length === 0 && waitMs === undefined) {
      // If every known node named a delay, the next round cannot start sooner than the first of them ends.
      const now = this.deps.now();
      const wait = Math.min(
        ...this.known().map((n) => Math.max(0, (this.bad.get(n.nodeId)?.notBefore ?? 0) - now)),
      );
      if (Number.isFinite(wait) && wait > 0) waitMs = wait;
    }
    if (pool.length === 0) {
      this.round = newRound();
      return { kind: 'none', retryAfterMs: waitMs, error };
    }
    const rtt = (id: string) => this.rtts.get(id)?.ms;
    return this.pick(chooseNode(pool, rtt, { ...this.o, random: this.deps.random }));
  }

  /**
   * The attempt on `nodeId` failed (or its open session broke: `afterOpen`); the node is avoided for a while,
   * at least `retryAfterMs` when the node named a delay. Says whether to try again at once.
   */
  failed(nodeId: string, options: { afterOpen?: boolean; retryAfterMs?: number } = {}): FailoverAdvice {
    this.markBad(nodeId, options.retryAfterMs);
    this.round.tried.add(nodeId);
    this.round.failures++;
    const more = this.fresh() && this.list.some((n) => this.usable(n));
    if (!options.afterOpen && (more || !this.round.discoveredAfterFailure)) return 'now';
    this.round = newRound();
    return 'later';
  }

  /**
   * A session opened on `nodeId`: it is no longer avoided, and a new round begins. When every known node had
   * failed, the failures were more likely the client's own network (offline for a while) than the nodes: the
   * marks are dropped so placement goes back to the nearest node instead of waiting them out.
   */
  opened(nodeId: string): void {
    const now = this.deps.now();
    const everyNodeFailed = this.list.length > 0 && this.list.every((n) => this.isBad(n.nodeId));
    for (const [id, mark] of this.bad) {
      if (id === nodeId || everyNodeFailed) {
        mark.until = Math.min(mark.until, now);
        mark.notBefore = Math.min(mark.notBefore, now);
        if (everyNodeFailed) mark.strikes = 0;
      }
    }
    this.round = newRound();
  }

  private pick(node: DiscoveryCandidate): PlacementDecision {
    // Not marked as tried here: an attempt that fails for another reason (the token source) stays on this node.
    this.chosen = node;
    return { kind: 'node', node, rttMs: this.rtts.get(node.nodeId)?.ms };
  }

  private fresh(): boolean {
    return this.list.length > 0 && this.deps.now() - this.listAt < this.o.candidatesTtlMs;
  }

  private usable(node: DiscoveryCandidate): boolean {
    return !this.isBad(node.nodeId) && !this.round.tried.has(node.nodeId);
  }

  /** The nodes this round may use: the last answer, plus the configured URL when discovery failed. */
  private known(): DiscoveryCandidate[] {
    if (!this.round.discoveryFailed) return this.list;
    const fallback: DiscoveryCandidate = {
      nodeId: FALLBACK_ID,
      wsUrl: this.deps.fallbackWsUrl,
      region: '',
      load: 0,
    };
    return [...this.list, fallback];
  }

  /** Ids of avoided nodes that discovery knows by id (not the configured URL). */
  private reportable(): string[] {
    const now = this.deps.now();
    return [...this.bad]
      .filter(([id, mark]) => mark.until > now && id !== FALLBACK_ID && !id.includes(','))
      .map(([id]) => id)
      .slice(0, 8);
  }

  private markBad(nodeId: string, retryAfterMs: number | undefined): void {
    const now = this.deps.now();
    const previous = this.bad.get(nodeId);
    // Strikes are forgotten once the node has gone a full maxBadForMs without failing.
    const strikes = previous && now - previous.lastFailAt < this.o.maxBadForMs ? previous.strikes + 1 : 1;
    const forMs = Math.min(this.o.maxBadForMs, this.o.badForMs * 2 ** Math.min(strikes - 1, 30));
    const named = Math.max(0, retryAfterMs ?? 0);
    this.bad.set(nodeId, {
      until: now + Math.max(forMs, named),
      notBefore: now + named,
      strikes,
      lastFailAt: now,
    });
  }

  /**
   * Measures the candidates that lack a fresh round trip, in parallel, each with up to `pingsPerNode` pings of
   * at most `pingTimeoutMs`. Unreachable ones are avoided and dropped while another one answered. A lone
   * candidate is not measured:
   * there is nothing to compare it with, and the connection attempt itself tells whether it is healthy.
   */
  private async measure(pool: DiscoveryCandidate[]): Promise<DiscoveryCandidate[]> {
    if (pool.length < 2) return pool;
    const now = this.deps.now();
    const stale = pool
      .filter((n) => n.pingUrl !== undefined)
      .filter((n) => {
        const known = this.rtts.get(n.nodeId);
        return !known || now - known.at >= this.o.rttTtlMs;
      })
      .slice(0, this.o.maxPinged);
    const unreachable = new Set<string>();
    await Promise.all(
      stale.map(async (node) => {
        let best: number | undefined;
        for (let i = 0; i < this.o.pingsPerNode; i++) {
          try {
            const ms = await bounded(this.deps.ping(node, this.o.pingTimeoutMs), this.o.pingTimeoutMs);
            if (Number.isFinite(ms) && ms >= 0) best = best === undefined ? ms : Math.min(best, ms);
          } catch {
            break;
          }
        }
        if (best === undefined) unreachable.add(node.nodeId);
        else this.rtts.set(node.nodeId, { ms: best, at: this.deps.now() });
      }),
    );
    const answered = pool.filter((n) => !unreachable.has(n.nodeId));
    // No candidate answered: more likely the pings themselves cannot work here (a proxy, a browser policy)
    // than every node being down. Keep them all, unmeasured; the connection attempt decides.
    if (answered.length === 0) return pool;
    for (const id of unreachable) {
      this.markBad(id, undefined);
      this.rtts.delete(id);
    }
    return answered;
  }
}

/** `promise`, or a rejection after `ms`: an injected ping that ignores its timeout still cannot stall placement. */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function newRound(): Round {
  return {
    discovered: false,
    discoveredAfterFailure: false,
    failures: 0,
    discoveryFailed: false,
    lastResort: false,
    tried: new Set(),
  };
}

/** The candidates of an answer; an answer without a list (an older server) is its one `wsUrl`. */
export function candidatesOf(answer: DiscoveryAnswer): DiscoveryCandidate[] {
  if (answer.candidates) return answer.candidates;
  return [{ nodeId: answer.wsUrl, wsUrl: answer.wsUrl, region: answer.region, load: 0 }];
}

/** Options of {@link chooseNode}. */
export interface ChooseOptions {
  region: string | undefined;
  equalRttMs: number;
  random: () => number;
}

/**
 * The placement rule, pure: candidates of the app's region first (when it named one and any is usable);
 * among them the fastest measured one, where round trips within `max(equalRttMs, 20% of the fastest)` of the
 * fastest are equal and one of those is drawn with probability proportional to its free capacity (so a crowd
 * with the same measurements spreads instead of piling onto one node); unmeasured candidates only when none
 * was measured, in discovery's order.
 */
export function chooseNode(
  pool: readonly DiscoveryCandidate[],
  rttOf: (nodeId: string) => number | undefined,
  options: ChooseOptions,
): DiscoveryCandidate {
  const local = options.region === undefined ? [] : pool.filter((n) => n.region === options.region);
  const tier = local.length > 0 ? local : pool;
  const measured = tier.filter((n) => rttOf(n.nodeId) !== undefined);
  if (measured.length === 0) return tier[0]!;
  const best = Math.min(...measured.map((n) => rttOf(n.nodeId)!));
  const limit = best + Math.max(options.equalRttMs, best * 0.2);
  const equals = measured.filter((n) => rttOf(n.nodeId)! <= limit);
  return weightedPick(equals, (n) => 1 - Math.min(1, n.load), options.random);
}

/** One item drawn with probability proportional to its weight (each at least a small floor). */
export function weightedPick<T>(items: readonly T[], weight: (item: T) => number, random: () => number): T {
  const weights = items.map((item) => Math.max(0.02, weight(item)));
  const total = weights.reduce((a, b) => a + b, 0);
  let r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON) * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}
