import type { NodeInfo, NodeRegistry } from '@natter/server-core';

/**
 * The registry of one multicore deployment, kept by the primary: each worker is a node that heartbeats
 * its entry; an entry not renewed within its TTL is gone (a killed worker drops out by itself).
 */
export class MemoryNodeRegistry implements NodeRegistry {
  private readonly entries = new Map<string, { node: NodeInfo; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    this.entries.set(node.id, { node: { ...node }, expiresAt: this.now() + ttlMs });
  }

  async deregister(nodeId: string): Promise<void> {
    this.entries.delete(nodeId);
  }

  async list(): Promise<NodeInfo[]> {
    const now = this.now();
    const live: NodeInfo[] = [];
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(id);
      else live.push({ ...entry.node });
    }
    return live;
  }

  async close(): Promise<void> {}
}
