import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@natter/protocol';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryService } from '../src/cluster/discovery-service.js';
import { NodeHealth } from '../src/cluster/node-health.js';
import { selectCandidates } from '../src/cluster/recommend.js';
import { silentLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import type { NodeInfo, NodeRegistry } from '../src/ports/registry.js';
import { createNatterServer, type NatterServer } from '../src/server.js';

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16_807) % 2_147_483_647;
    return s / 2_147_483_647;
  };
}

const info = (id: string, extra: Partial<NodeInfo> = {}): NodeInfo => ({
  id,
  wsUrl: `ws://127.0.0.1:9/${id}/v1/ws`,
  region: 'eu',
  capacity: 100,
  load: 0,
  ...extra,
});

describe('selectCandidates', () => {
  it('puts the asked region first and keeps one slot for the best node of another region', () => {
    const nodes = [
      info('us1', { region: 'us' }),
      info('eu1'),
      info('eu2'),
      info('eu3'),
      info('ap1', { region: 'ap' }),
    ];
    const chosen = selectCandidates(nodes, { region: 'eu', max: 3, random: lcg(1) });
    expect(chosen.slice(0, 2).every((n) => n.region === 'eu')).toBe(true);
    expect(chosen[2]?.region).not.toBe('eu');
  });

  it('lists one node of each region in turn when the client named none', () => {
    const nodes = [info('eu1'), info('eu2'), info('us1', { region: 'us' }), info('ap1', { region: 'ap' })];
    const chosen = selectCandidates(nodes, { max: 3, random: lcg(2) });
    expect(new Set(chosen.map((n) => n.region))).toEqual(new Set(['eu', 'us', 'ap']));
  });

  it('fills from other regions when the asked region has fewer nodes than slots', () => {
    const nodes = [info('eu1'), info('us1', { region: 'us' }), info('us2', { region: 'us' })];
    const chosen = selectCandidates(nodes, { region: 'eu', max: 3, random: lcg(3) });
    expect(chosen.map((n) => n.id)[0]).toBe('eu1');
    expect(chosen).toHaveLength(3);
  });

  it('lists full nodes only after every node with room, and only to fill the list', () => {
    const nodes = [info('full', { load: 100 }), info('a', { load: 99 }), info('b')];
    expect(
      selectCandidates(nodes, { max: 2, random: lcg(4) })
        .map((n) => n.id)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(selectCandidates(nodes, { max: 3, random: lcg(4) }).at(-1)?.id).toBe('full');
  });

  it('spreads the first choice over equal nodes, in proportion to their free capacity', () => {
    const nodes = [info('a', { load: 50 }), info('b'), info('c')];
    const random = lcg(5);
    const first = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 10_000; i++) first[selectCandidates(nodes, { random })[0]!.id as 'a' | 'b' | 'c']++;
    // Free capacity 0.5 : 1 : 1 → 20% : 40% : 40%.
    expect(first.a / 10_000).toBeGreaterThan(0.17);
    expect(first.a / 10_000).toBeLessThan(0.23);
    expect(Math.abs(first.b - first.c) / 10_000).toBeLessThan(0.04);
  });

  it('answers nothing for no nodes', () => {
    expect(selectCandidates([], { region: 'eu' })).toEqual([]);
  });
});

describe('NodeHealth', () => {
  const clock = { now: 0 };
  const health = () => new NodeHealth({ now: () => clock.now, reportThreshold: 3, reportWindowMs: 10_000 });

  it('does not exclude a node one client reported, however often', () => {
    const h = health();
    for (let i = 0; i < 10; i++) h.report('n1', '10.0.0.1');
    expect(h.isExcluded('n1')).toBe(false);
  });

  it('excludes a node that several distinct clients reported within the window, until the reports age', () => {
    const h = health();
    h.report('n1', '10.0.0.1');
    h.report('n1', '10.0.0.2');
    h.report('n1', '10.0.0.3');
    expect(h.isExcluded('n1')).toBe(true);
    clock.now += 10_001;
    expect(h.isExcluded('n1')).toBe(false);
  });

  it('excludes a node whose probe failed or found it draining, and readmits it after a good probe', () => {
    const h = health();
    h.probed('n1', 'down');
    expect(h.isExcluded('n1')).toBe(true);
    h.probed('n1', 'ok');
    expect(h.isExcluded('n1')).toBe(false);
    h.probed('n1', 'draining');
    expect(h.isExcluded('n1')).toBe(true);
    expect(h.isDraining('n1')).toBe(true);
  });

  it('forgets nodes that left the registry', () => {
    const h = health();
    h.probed('gone', 'down');
    h.retain(new Set(['other']));
    expect(h.isExcluded('gone')).toBe(false);
  });
});

/** The NodeRegistry port in memory: entries stay until deregistered (like a crashed node before its TTL). */
class ListRegistry implements NodeRegistry {
  readonly entries = new Map<string, NodeInfo>();
  lists = 0;
  async heartbeat(node: NodeInfo): Promise<void> {
    this.entries.set(node.id, { ...node });
  }
  async deregister(nodeId: string): Promise<void> {
    this.entries.delete(nodeId);
  }
  async list(): Promise<NodeInfo[]> {
    this.lists++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return [...this.entries.values()];
  }
  async close(): Promise<void> {}
}

describe('DiscoveryService over real nodes', () => {
  const nodes: NatterServer[] = [];
  const services: DiscoveryService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) s.close();
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  /** A real natter node listening on 127.0.0.1, registered under `id`. */
  async function liveNode(registry: ListRegistry, id: string, region = 'eu'): Promise<NatterServer> {
    const server = createNatterServer({
      storage: createMemoryStorage(),
      tokens: { secret: 'discovery-test-secret-discovery-test-secret' },
      region,
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
    });
    nodes.push(server);
    const { url } = await server.listen(0);
    await registry.heartbeat(info(id, { wsUrl: `${url.replace(/^http/, 'ws')}/v1/ws`, region }));
    return server;
  }

  /** An address that refuses connections: a node that died without leaving the registry. */
  async function deadAddress(): Promise<string> {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `ws://127.0.0.1:${port}/v1/ws`;
  }

  function service(registry: ListRegistry, probeIntervalMs = 0): DiscoveryService {
    const s = new DiscoveryService({
      registry,
      wsPath: '/v1/ws',
      options: { probeIntervalMs, probeTimeoutMs: 500 },
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
    });
    services.push(s);
    return s;
  }

  const ids = (answer: { candidates?: { nodeId: string }[] }) =>
    (answer.candidates ?? []).map((c) => c.nodeId).sort();

  async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('answers candidates with ping URLs and fullness, the first one also as wsUrl', async () => {
    const registry = new ListRegistry();
    await liveNode(registry, 'a');
    await liveNode(registry, 'b');
    const answer = await service(registry).answer({}, '10.0.0.1');
    expect(ids(answer)).toEqual(['a', 'b']);
    const first = answer.candidates![0]!;
    expect(answer.wsUrl).toBe(first.wsUrl);
    expect(first.pingUrl).toBe(first.wsUrl.replace('ws://', 'http://').replace('/v1/ws', '/v1/ping'));
    expect(first.load).toBe(0);
    const ping = await fetch(first.pingUrl!);
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({ nodeId: expect.any(String), region: 'eu', status: 'ok' });
  });

  it('leaves out the nodes a client reported, for that client, and probes them at once for everyone', async () => {
    const registry = new ListRegistry();
    await liveNode(registry, 'a');
    await registry.heartbeat(info('dead', { wsUrl: await deadAddress() }));
    const discovery = service(registry);
    expect(ids(await discovery.answer({ failed: ['dead'] }, '10.0.0.1'))).toEqual(['a']);
    // The report made discovery probe the node: once the probe failed, nobody gets it.
    await eventually(async () => ids(await discovery.answer({}, '10.0.0.2')).length === 1, 'the probe');
    expect(ids(await discovery.answer({}, '10.0.0.2'))).toEqual(['a']);
  });

  it('keeps a reported node that answers its probe for clients that did not report it', async () => {
    const registry = new ListRegistry();
    await liveNode(registry, 'a');
    await liveNode(registry, 'b');
    const discovery = service(registry);
    await discovery.answer({ failed: ['b'] }, '10.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ids(await discovery.answer({}, '10.0.0.2'))).toEqual(['a', 'b']);
  });

  it('finds a dead node by its background probes before any client reports it', async () => {
    const registry = new ListRegistry();
    await liveNode(registry, 'a');
    await registry.heartbeat(info('dead', { wsUrl: await deadAddress() }));
    const discovery = service(registry, 100);
    expect(ids(await discovery.answer({}, undefined))).toEqual(['a', 'dead']);
    await eventually(
      async () => ids(await discovery.answer({}, undefined)).length === 1,
      'the background probe',
    );
  });

  it('never recommends a draining node, even when nothing else is left', async () => {
    const registry = new ListRegistry();
    const draining = await liveNode(registry, 'draining');
    const entry = registry.entries.get('draining')!;
    await draining.drain();
    await registry.heartbeat(entry); // a stale entry: the drain had deregistered it
    await registry.heartbeat(info('dead', { wsUrl: await deadAddress() }));
    const discovery = service(registry);
    await discovery.answer({ failed: ['draining', 'dead'] }, '10.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Every node failed its probe: discovery falls back to the registry's list, but not to a draining node.
    expect(ids(await discovery.answer({}, '10.0.0.2'))).toEqual(['dead']);
  });

  it('gives a client the nodes it reported when they are all there is (a lone node restarting)', async () => {
    const registry = new ListRegistry();
    await liveNode(registry, 'only');
    expect(ids(await service(registry).answer({ failed: ['only'] }, '10.0.0.1'))).toEqual(['only']);
  });

  it('answers NATTER_UNAVAILABLE with a retry delay when no node is registered', async () => {
    await expect(service(new ListRegistry()).answer({}, undefined)).rejects.toMatchObject({
      code: ErrorCode.UNAVAILABLE,
      retryAfterMs: 1_000,
    });
  });

  it('reads the registry once for all requests that arrive together', async () => {
    const registry = new ListRegistry();
    await liveNode(registry, 'a');
    const discovery = service(registry);
    await Promise.all(Array.from({ length: 50 }, () => discovery.answer({}, undefined)));
    expect(registry.lists).toBe(1);
  });
});
