import { createNatsBroker } from '@natter/broker-nats';
import { createRedisBroker, createRedisNodeRegistry, createRedisPresenceStore } from '@natter/broker-redis';
import { createZooKeeperNodeRegistry } from '@natter/registry-zookeeper';
import {
  type Broker,
  createNatterServer,
  type Logger,
  type NatterServer,
  type NodeRegistry,
  type PresenceStore,
  type StorageAdapter,
  silentLogger,
} from '@natter/server-core';

export const CLUSTER_SECRET = 'cluster-test-secret-cluster-test-secret-0123456789';

export type BrokerKind = 'redis' | 'nats';

/** Everything that makes one chat node of a test cluster; JSON, so a child process can take it too. */
export interface NodeSpec {
  nodeId: string;
  broker: { kind: BrokerKind; url: string; prefix: string };
  presence?: { url: string; prefix: string; graceMs: number };
  registry?:
    | { kind: 'redis'; url: string; prefix: string; ttlMs: number }
    | { kind: 'zookeeper'; url: string; basePath: string; ttlMs: number };
  region?: string;
  drainWindowMs?: number;
  /** Public URL to announce; default: the listening address. */
  publicWsUrl?: string;
}

/** A node's scale-out resources, which the server does not own and the caller must close. */
export interface NodeResources {
  broker: Broker & { ready(timeoutMs?: number): Promise<void> };
  presence: (PresenceStore & { close(): Promise<void> }) | undefined;
  registry: NodeRegistry | undefined;
  close(): Promise<void>;
}

/** Counts the errors a node's broker reported, by code (for assertions and diagnostics). */
export type BrokerEvents = Map<string, number>;

export function openResources(spec: NodeSpec, events?: BrokerEvents): NodeResources {
  const broker =
    spec.broker.kind === 'redis'
      ? createRedisBroker({ url: spec.broker.url, channelPrefix: spec.broker.prefix })
      : createNatsBroker({ servers: spec.broker.url, subjectPrefix: spec.broker.prefix });
  if (events) {
    broker.onError((err) => {
      const code = (err as { code?: string }).code ?? 'unknown';
      events.set(code, (events.get(code) ?? 0) + 1);
    });
  }
  const presence = spec.presence
    ? createRedisPresenceStore({ url: spec.presence.url, keyPrefix: spec.presence.prefix })
    : undefined;
  const r = spec.registry;
  const registry = !r
    ? undefined
    : r.kind === 'redis'
      ? createRedisNodeRegistry({ url: r.url, keyPrefix: r.prefix })
      : createZooKeeperNodeRegistry({
          connectionString: r.url,
          basePath: r.basePath,
          sessionTimeoutMs: 4_000,
        });
  return {
    broker,
    presence,
    registry,
    async close() {
      await Promise.allSettled([broker.close(), presence?.close(), registry?.close()]);
    },
  };
}

/** Creates (does not start) the natter server of one node. */
export function createNode(
  spec: NodeSpec,
  storage: StorageAdapter,
  resources: NodeResources,
  logger: Logger = silentLogger(),
): NatterServer {
  return createNatterServer({
    storage,
    tokens: { secret: CLUSTER_SECRET },
    logger,
    // Test senders stream as fast as acks come back; the default 20/s would throttle them.
    limits: { sendsPerSecond: 2_000, sendBurst: 2_000 },
    // Crowds come from 127.0.0.1 and reconnect through failovers: the abuse bounds have suites of their own.
    resourceLimits: {
      maxConnectionsPerAddress: 1_000_000,
      handshakesPerAddress: { perSecond: 100_000, burst: 100_000 },
      signupsPerAddress: { perSecond: 1_000, burst: 1_000 },
      connectsPerUser: { perSecond: 1_000, burst: 1_000 },
    },
    region: spec.region ?? 'local',
    ...(spec.publicWsUrl ? { publicWsUrl: spec.publicWsUrl } : {}),
    ...(spec.presence || resources.presence
      ? {
          presence: {
            graceMs: spec.presence?.graceMs ?? 30_000,
            ...(resources.presence ? { store: resources.presence } : {}),
          },
        }
      : {}),
    cluster: {
      broker: resources.broker,
      nodeId: spec.nodeId,
      ...(resources.registry
        ? { registry: resources.registry, registryTtlMs: spec.registry?.ttlMs ?? 1_500 }
        : {}),
      drainWindowMs: spec.drainWindowMs ?? 500,
    },
  });
}
