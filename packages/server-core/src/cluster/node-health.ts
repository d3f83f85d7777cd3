/** What discovery knows about chat nodes beyond the registry: probe results and client reports. */

/** Outcome of one health probe of a node's `GET /v1/ping`. */
export type ProbeOutcome = 'ok' | 'draining' | 'down';

/** Options of {@link NodeHealth}. */
export interface NodeHealthOptions {
  /** Distinct clients that must report a node within `reportWindowMs` before it is excluded for everyone. @default 3 */
  reportThreshold?: number;
  /** How long a client's report counts, ms. @default 10000 */
  reportWindowMs?: number;
  /** Clock, ms. @default Date.now */
  now?: () => number;
}

// Reporters remembered per node; far above any sensible threshold.
const MAX_REPORTERS = 64;

interface Entry {
  /** Newest report time per reporter. */
  reports: Map<string, number>;
  probe: ProbeOutcome | undefined;
  probedAt: number;
}

/**
 * Health of chat nodes as one API node sees it: the last probe of each node and which clients just reported
 * it unreachable. A node is excluded when its last probe failed or it is draining, or when several distinct
 * clients reported it within the window (the API node may reach a node its clients cannot). One client's
 * report never excludes a node for others by itself: it only triggers a probe, so a misbehaving client
 * cannot take nodes out of discovery.
 */
export class NodeHealth {
  private readonly entries = new Map<string, Entry>();
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: NodeHealthOptions = {}) {
    this.threshold = Math.max(1, options.reportThreshold ?? 3);
    this.windowMs = options.reportWindowMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Records that `reporter` (a client address) could not reach `nodeId`. */
  report(nodeId: string, reporter: string): void {
    const { reports } = this.entry(nodeId);
    reports.delete(reporter);
    reports.set(reporter, this.now());
    // Bounded: past the threshold more reporters change nothing, so the oldest can go.
    if (reports.size > MAX_REPORTERS) reports.delete(reports.keys().next().value!);
  }

  /** Records a probe's outcome. */
  probed(nodeId: string, outcome: ProbeOutcome): void {
    const entry = this.entry(nodeId);
    entry.probe = outcome;
    entry.probedAt = this.now();
  }

  /** When the node was last probed (0 if never). */
  probedAt(nodeId: string): number {
    return this.entries.get(nodeId)?.probedAt ?? 0;
  }

  /** Whether the last probe found the node draining: such a node is never recommended. */
  isDraining(nodeId: string): boolean {
    return this.entries.get(nodeId)?.probe === 'draining';
  }

  /** Whether discovery should leave the node out: probe failed, draining, or reported by several clients. */
  isExcluded(nodeId: string): boolean {
    const entry = this.entries.get(nodeId);
    if (!entry) return false;
    if (entry.probe === 'down' || entry.probe === 'draining') return true;
    return this.reporters(entry) >= this.threshold;
  }

  /** Forgets nodes no longer in the registry (their ids are never reused while alive). */
  retain(nodeIds: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!nodeIds.has(id)) this.entries.delete(id);
  }

  private reporters(entry: Entry): number {
    const since = this.now() - this.windowMs;
    let count = 0;
    for (const [reporter, at] of entry.reports) {
      if (at >= since) count++;
      else entry.reports.delete(reporter);
    }
    return count;
  }

  private entry(nodeId: string): Entry {
    let entry = this.entries.get(nodeId);
    if (!entry) {
      entry = { reports: new Map(), probe: undefined, probedAt: 0 };
      this.entries.set(nodeId, entry);
    }
    return entry;
  }
}
