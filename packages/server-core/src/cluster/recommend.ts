import type { NodeInfo } from '../ports/broker.js';

/**
 * The design's recommendation rule: nodes in the client's region first, then the least loaded relative to
 * capacity; full nodes last. Ties break by id so every API node answers the same.
 */
export function recommendNode(nodes: readonly NodeInfo[], region: string | undefined): NodeInfo | undefined {
  const ratio = (n: NodeInfo) => (n.capacity > 0 ? n.load / n.capacity : Number.POSITIVE_INFINITY);
  return [...nodes].sort((a, b) => {
    const full = Number(ratio(a) >= 1) - Number(ratio(b) >= 1);
    if (full !== 0) return full;
    const local = Number(b.region === region) - Number(a.region === region);
    if (local !== 0) return local;
    return ratio(a) - ratio(b) || a.id.localeCompare(b.id);
  })[0];
}
