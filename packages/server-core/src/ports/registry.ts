/** A chat node as service discovery sees it. */
export interface NodeInfo {
  /** Unique per process. */
  id: string;
  /** Where clients open their WebSocket. */
  wsUrl: string;
  region: string;
  /** Connections the node is sized for. */
  capacity: number;
  /** Connections it holds now. */
  load: number;
}

/**
 * Service discovery: chat nodes register and heartbeat themselves; the API asks for the live ones.
 * An entry not renewed within `ttlMs` disappears (a dead node drops out within seconds).
 */
export interface NodeRegistry {
  /** Registers or renews the node's entry for `ttlMs`. */
  heartbeat(node: NodeInfo, ttlMs: number): Promise<void>;
  /** Removes the node's entry at once (graceful drain). */
  deregister(nodeId: string): Promise<void>;
  /** Live nodes. */
  list(): Promise<NodeInfo[]>;
  close(): Promise<void>;
}

/**
 * Reads a registry entry written by any node (JSON of a {@link NodeInfo}); null when it is not one. Shared by
 * the registry adapters, so every registry accepts and refuses the same entries.
 */
export function parseNodeInfo(value: string): NodeInfo | null {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (typeof r.id !== 'string' || typeof r.wsUrl !== 'string' || typeof r.region !== 'string') return null;
  if (!finite(r.capacity) || !finite(r.load)) return null;
  return { id: r.id, wsUrl: r.wsUrl, region: r.region, capacity: r.capacity, load: r.load };
}
