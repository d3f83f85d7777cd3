import { randomBytes } from 'node:crypto';
import type { NatterServer } from '@natter/server-core';
import { api, signup, type TestUser } from '../../helpers/server.js';
import { NATS_URL, REDIS_URL, ZOOKEEPER_URL } from './env.js';
import {
  type BrokerEvents,
  type BrokerKind,
  createNode,
  type NodeResources,
  type NodeSpec,
  openResources,
} from './node-spec.js';
import type { TestStore } from './storage.js';

export const token = () => randomBytes(5).toString('hex');

/** Options of a test cluster. */
export interface ClusterOptions {
  broker: BrokerKind;
  nodes: number;
  store: TestStore;
  /** Share presence through Redis with this grace period. */
  presenceGraceMs?: number;
  /** Register nodes for discovery. */
  registry?: 'redis' | 'zookeeper';
  registryTtlMs?: number;
  drainWindowMs?: number;
  /** Broker URL instead of NATTER_REDIS_URL / NATTER_NATS_URL (e.g. a private server the test restarts). */
  brokerUrl?: string;
}

/** What all nodes of one cluster share (prefixes keep concurrent clusters apart on one Redis/NATS). */
export interface ClusterShape {
  id: string;
  broker: NodeSpec['broker'];
  presence: NodeSpec['presence'];
  registry: NodeSpec['registry'];
  drainWindowMs: number;
}

export function clusterShape(options: Omit<ClusterOptions, 'nodes' | 'store'>): ClusterShape {
  const id = token();
  const ttlMs = options.registryTtlMs ?? 1_500;
  return {
    id,
    broker: {
      kind: options.broker,
      url: options.brokerUrl ?? (options.broker === 'redis' ? REDIS_URL : NATS_URL),
      prefix: `nt.${id}.`,
    },
    presence:
      options.presenceGraceMs === undefined
        ? undefined
        : { url: REDIS_URL, prefix: `natter:test:${id}:presence:`, graceMs: options.presenceGraceMs },
    registry:
      options.registry === 'redis'
        ? { kind: 'redis', url: REDIS_URL, prefix: `natter:test:${id}:nodes:`, ttlMs }
        : options.registry === 'zookeeper'
          ? { kind: 'zookeeper', url: ZOOKEEPER_URL, basePath: `/natter-test/${id}/nodes`, ttlMs }
          : undefined,
    drainWindowMs: options.drainWindowMs ?? 500,
  };
}

export const specFor = (shape: ClusterShape, i: number): NodeSpec => ({
  nodeId: `node-${shape.id}-${i}`,
  broker: shape.broker,
  ...(shape.presence ? { presence: shape.presence } : {}),
  ...(shape.registry ? { registry: shape.registry } : {}),
  drainWindowMs: shape.drainWindowMs,
});

/** One in-process chat node. */
export interface InProcessNode {
  spec: NodeSpec;
  server: NatterServer;
  url: string;
  wsUrl: string;
  resources: NodeResources;
  /** Broker errors and recoveries reported, by code. */
  events: BrokerEvents;
  stopped: boolean;
  stop(): Promise<void>;
}

export async function startInProcessNode(spec: NodeSpec, store: TestStore): Promise<InProcessNode> {
  const events: BrokerEvents = new Map();
  const resources = openResources(spec, events);
  await resources.broker.ready(10_000);
  const server = createNode(spec, store.forNode(), resources);
  // A node refused at start (e.g. its store refuses to open) leaves no connection behind.
  const { url } = await server.listen(0).catch(async (err: unknown) => {
    await server.close().catch(() => undefined);
    await resources.close();
    throw err;
  });
  const node: InProcessNode = {
    spec,
    server,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/v1/ws`,
    resources,
    events,
    stopped: false,
    async stop() {
      if (node.stopped) return;
      node.stopped = true;
      await server.close();
      await resources.close();
    },
  };
  return node;
}

/** Several chat nodes in this process, sharing one store and one broker (each with its own connections). */
export interface Cluster {
  shape: ClusterShape;
  nodes: InProcessNode[];
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const shape = clusterShape(options);
  const nodes: InProcessNode[] = [];
  try {
    for (let i = 0; i < options.nodes; i++)
      nodes.push(await startInProcessNode(specFor(shape, i), options.store));
  } catch (err) {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    throw err;
  }
  return {
    shape,
    nodes,
    async stop() {
      await Promise.allSettled(nodes.map((n) => n.stop()));
    },
  };
}

/** Signs up `count` users through any node's HTTP API (all nodes share the store). */
export async function users(url: string, count: number, label: string): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (let i = 0; i < count; i++) out.push(await signup(url, `${label}${i}_${token()}`));
  return out;
}

export async function openDirect(url: string, a: TestUser, b: TestUser): Promise<string> {
  const res = await api<{ channel: { id: string } }>(url, a, 'POST', '/v1/channels/direct', { userId: b.id });
  if (res.status !== 200) throw new Error(`open direct failed: ${res.status}`);
  return res.body.channel.id;
}

export async function createGroup(
  url: string,
  admin: TestUser,
  members: TestUser[],
  name = 'g',
): Promise<string> {
  const res = await api<{ channel: { id: string } }>(url, admin, 'POST', '/v1/groups', {
    name,
    memberIds: members.map((m) => m.id),
  });
  if (res.status !== 201) throw new Error(`create group failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.channel.id;
}

/**
 * An API node: serves the HTTP API and `GET /v1/discovery` from the registry, but does not announce
 * itself (its registry is read-only), so discovery sends clients to chat nodes only.
 */
export async function startApiNode(shape: ClusterShape, store: TestStore): Promise<InProcessNode> {
  const spec = { ...specFor(shape, 0), nodeId: `api-${shape.id}` };
  const events: BrokerEvents = new Map();
  const resources = openResources(spec, events);
  const registry = resources.registry;
  if (!registry) throw new Error('an API node needs a registry');
  const readOnly: NodeResources = {
    ...resources,
    registry: {
      heartbeat: async () => undefined,
      deregister: async () => undefined,
      list: () => registry.list(),
      close: () => registry.close(),
    },
  };
  await resources.broker.ready(10_000);
  const server = createNode(spec, store.forNode(), readOnly);
  const { url } = await server.listen(0);
  const node: InProcessNode = {
    spec,
    server,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/v1/ws`,
    resources,
    events,
    stopped: false,
    async stop() {
      if (node.stopped) return;
      node.stopped = true;
      await server.close();
      await resources.close();
    },
  };
  return node;
}

/** First the given node (initial placement), then discovery for every reconnect. */
export function placedThenDiscovered(
  firstWsUrl: string,
  discover: () => Promise<string>,
): () => Promise<string> {
  let first = true;
  return async () => {
    if (first) {
      first = false;
      return firstWsUrl;
    }
    return discover();
  };
}
