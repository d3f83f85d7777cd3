import type { NodeInfo } from '../ports/registry.js';

/** Options of {@link selectCandidates}. */
export interface SelectOptions {
  /** The region the client asked for; its nodes come first. */
  region?: string | undefined;
  /** Candidates to answer, at most. @default 3 */
  max?: number;
  /** Source of randomness in [0, 1). @default Math.random */
  random?: () => number;
}

/** A node's fullness: connections ÷ capacity (a node without capacity counts as full). */
export const fullness = (n: NodeInfo): number =>
  n.capacity > 0 ? Math.max(0, n.load) / n.capacity : Number.POSITIVE_INFINITY;
const isFull = (n: NodeInfo) => fullness(n) >= 1;

/**
 * A random order in which each node comes first with probability proportional to its free capacity
 * (Efraimidis–Spirakis weighted shuffle). Loads are only as fresh as the last registry heartbeat, so a
 * deterministic "least loaded first" would send a whole crowd of reconnecting clients to one node; this
 * spreads them in proportion to the room each node had.
 */
export function weightedShuffle<T>(
  items: readonly T[],
  weight: (item: T) => number,
  random: () => number,
): T[] {
  return items
    .map((item) => {
      const w = Math.max(weight(item), 1e-3);
      const u = Math.min(Math.max(random(), Number.EPSILON), 1 - Number.EPSILON);
      return { item, key: Math.log(u) / w };
    })
    .sort((a, b) => b.key - a.key)
    .map((e) => e.item);
}

/**
 * The candidates discovery answers, best first:
 * - nodes that are not full before full ones (full ones only fill up a short list);
 * - with a region asked for, that region's nodes first, but one slot kept for the best node of another
 *   region (a client then fails over across regions without asking again);
 * - without one, one node of each region in turn, so the client's latency measurement can find the nearest
 *   region;
 * - within a region, a weighted random order by free capacity (see {@link weightedShuffle}).
 */
export function selectCandidates(nodes: readonly NodeInfo[], options: SelectOptions = {}): NodeInfo[] {
  const max = Math.max(1, Math.floor(options.max ?? 3));
  const random = options.random ?? Math.random;
  const free = (n: NodeInfo) => 1 - Math.min(1, fullness(n));
  const open = nodes.filter((n) => !isFull(n));
  const full = [...nodes.filter(isFull)].sort(
    (a, b) => fullness(a) - fullness(b) || a.id.localeCompare(b.id),
  );
  const byRegion = new Map<string, NodeInfo[]>();
  for (const n of weightedShuffle(open, free, random)) {
    const list = byRegion.get(n.region) ?? [];
    list.push(n);
    byRegion.set(n.region, list);
  }
  const wanted = options.region;
  const local = wanted === undefined ? [] : (byRegion.get(wanted) ?? []);
  let chosen: NodeInfo[];
  if (local.length > 0) {
    const others = interleave([...byRegion].filter(([r]) => r !== wanted).map(([, list]) => list));
    const reserved = others.length > 0 && max > 1 ? 1 : 0;
    chosen = [...local.slice(0, max - reserved), ...others.slice(0, reserved)];
    // The region had fewer nodes than slots: fill up from the other regions.
    chosen.push(...others.slice(reserved, reserved + max - chosen.length));
  } else {
    chosen = interleave([...byRegion.values()]).slice(0, max);
  }
  chosen.push(...full.slice(0, max - chosen.length));
  return chosen;
}

/** Round-robin over lists, in the order the lists come: first of each, then second of each, ... */
function interleave<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const list of lists) if (i < list.length) out.push(list[i]!);
  return out;
}

/**
 * The single node to recommend (the first of {@link selectCandidates}): for callers that need one URL, such
 * as the `wsUrl` field of the discovery answer that clients without candidate lists read.
 */
export function recommendNode(
  nodes: readonly NodeInfo[],
  region: string | undefined,
  random: () => number = Math.random,
): NodeInfo | undefined {
  return selectCandidates(nodes, { region, max: 1, random })[0];
}

/** Nodes ordered by preference without randomness: not full, same region, least loaded, then id. */
export function rankNodes(nodes: readonly NodeInfo[], region: string | undefined): NodeInfo[] {
  return [...nodes].sort((a, b) => {
    const full = Number(isFull(a)) - Number(isFull(b));
    if (full !== 0) return full;
    const local = Number(b.region === region) - Number(a.region === region);
    if (local !== 0) return local;
    return fullness(a) - fullness(b) || a.id.localeCompare(b.id);
  });
}
