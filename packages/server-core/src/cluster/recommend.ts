import type { NodeInfo } from '../ports/registry.js';

/**
 * The design's recommendation rule: nodes in the client's region first, then the least loaded relative to
 * capacity; full nodes last. One of the best `spread` nodes is picked at random: loads are only as fresh as
 * the last registry heartbeat, and a deterministic answer would send every client reconnecting after a crash
 * to the same node.
 */
export function recommendNode(
  nodes: readonly NodeInfo[],
  region: string | undefined,
  spread = 2,
  random: () => number = Math.random,
): NodeInfo | undefined {
  const ranked = rankNodes(nodes, region);
  const best = ranked[0];
  if (!best) return undefined;
  // Only nodes as good as the best in region and fullness compete; never trade a local node for a remote one.
  const peers = ranked.slice(0, spread).filter((n) => n.region === best.region && isFull(n) === isFull(best));
  return peers[Math.floor(random() * peers.length)] ?? best;
}

const ratio = (n: NodeInfo) => (n.capacity > 0 ? n.load / n.capacity : Number.POSITIVE_INFINITY);
const isFull = (n: NodeInfo) => ratio(n) >= 1;

/** Nodes ordered by preference: not full, same region, least loaded, then id. */
export function rankNodes(nodes: readonly NodeInfo[], region: string | undefined): NodeInfo[] {
  return [...nodes].sort((a, b) => {
    const full = Number(ratio(a) >= 1) - Number(ratio(b) >= 1);
    if (full !== 0) return full;
    const local = Number(b.region === region) - Number(a.region === region);
    if (local !== 0) return local;
    return ratio(a) - ratio(b) || a.id.localeCompare(b.id);
  });
}
