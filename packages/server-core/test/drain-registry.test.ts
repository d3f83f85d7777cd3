import { createMemoryStorage } from '@natter/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import type { Broker } from '../src/ports/broker.js';
import type { NodeInfo, NodeRegistry } from '../src/ports/registry.js';
import { createNatterServer, type NatterServer } from '../src/server.js';

/** A registry whose writes take a while to land, like one across a network (ZooKeeper in CI). */
class SlowRegistry implements NodeRegistry {
  readonly entries = new Map<string, NodeInfo>();
  heartbeats = 0;
  constructor(private readonly delayMs: number) {}
  async heartbeat(node: NodeInfo): Promise<void> {
    this.heartbeats++;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.entries.set(node.id, { ...node });
  }
  async deregister(nodeId: string): Promise<void> {
    this.entries.delete(nodeId);
  }
  async list(): Promise<NodeInfo[]> {
    return [...this.entries.values()];
  }
  async close(): Promise<void> {}
}

/** A broker for one node: nothing to relay to. */
const loneBroker = (): Broker => ({
  publish: async () => {},
  subscribe: async () => async () => {},
  onError: () => {},
  close: async () => {},
});

describe('draining with a heartbeat in flight', () => {
  let server: NatterServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('leaves the registry for good: a heartbeat sent before the drain cannot bring the entry back', async () => {
    const registry = new SlowRegistry(150);
    server = createNatterServer({
      storage: createMemoryStorage(),
      tokens: { secret: 'drain-registry-secret-drain-registry-secret' },
      cluster: { broker: loneBroker(), registry, nodeId: 'n1', registryTtlMs: 600, drainWindowMs: 0 },
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
    });
    await server.listen(0);
    expect([...registry.entries.keys()]).toEqual(['n1']);
    // Heartbeats go out every 200 ms and take 150 ms: wait until one is in flight, then drain.
    const before = registry.heartbeats;
    while (registry.heartbeats === before) await new Promise((resolve) => setTimeout(resolve, 5));
    await server.drain();
    expect([...registry.entries.keys()]).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([...registry.entries.keys()]).toEqual([]);
  });
});
