import { afterAll, describe, expect, it } from 'vitest';
import { type ChildNode, startChildNode } from './helpers/child-nodes.js';
import { clusterShape, type InProcessNode, specFor, startApiNode, token } from './helpers/cluster.js';
import { attempts, connectCrowd, createCrowd, type Member, quantile, waitUntil } from './helpers/crowd.js';
import { type DelayProxy, startDelayProxy } from './helpers/delay-proxy.js';
import { servicesUp } from './helpers/env.js';
import { clusterSuite } from './helpers/suite.js';

/**
 * The figures of issue 23, measured on real processes: three chat nodes (child processes on PostgreSQL and
 * Redis), an API node answering discovery, and a crowd of @natter/client instances with the SDK's default
 * reconnect and placement settings. NATTER_FAILOVER_CLIENTS sets the crowd (200 here, 1,000 for the figures in
 * docs/scaling.md: `NATTER_FAILOVER_CLIENTS=1000 npx vitest run tests/cluster/failover-figures.test.ts`).
 * Timings come from a shared 2-core machine: provisional.
 */
const CLIENTS = Math.max(6, Math.floor(Number(process.env.NATTER_FAILOVER_CLIENTS ?? 200) / 2) * 2);
/** Senders during the kill (each sends to its pair every SEND_EVERY_MS). */
const SENDERS = Math.min(20, CLIENTS / 2);
const SEND_EVERY_MS = 250;
/** Round-trip times added to each node by a delaying proxy (the nearest first). */
const LATENCIES_MS = [5, 40, 120];

const store = await clusterSuite('failover-figures');
const up = await servicesUp('failover figures', ['redis', 'pg']);

describe.skipIf(!up)(`failover and placement figures, ${CLIENTS} clients on 3 nodes`, () => {
  let nodes: ChildNode[] = [];
  let api: InProcessNode | undefined;
  let crowd: Member[] = [];
  const proxies: DelayProxy[] = [];
  afterAll(async () => {
    await Promise.allSettled(crowd.map((m) => m.client.close()));
    await Promise.allSettled(nodes.map((n) => n.kill9()));
    await api?.stop();
    await Promise.allSettled(proxies.map((p) => p.close()));
  }, 120_000);

  it('after kill -9 of a node its clients are back on the survivors within 2 s, spread, never retrying the dead node, losing nothing', async () => {
    // The registry's default TTL (6 s): failover must not wait for the dead node's entry to expire.
    const shape = clusterShape({ broker: 'redis', registry: 'redis', registryTtlMs: 6_000 });
    nodes = await Promise.all([0, 1, 2].map((i) => startChildNode(specFor(shape, i), store.spec)));
    api = await startApiNode(shape, store);
    crowd = await createCrowd(api, CLIENTS, `fo${token()}_`);
    await connectCrowd(crowd);
    const placed = new Map<string, Member[]>();
    for (const m of crowd) {
      const nodeId = m.client.node?.nodeId ?? 'none';
      placed.set(nodeId, [...(placed.get(nodeId) ?? []), m]);
    }
    expect([...placed.keys()].sort()).toEqual(nodes.map((n) => n.nodeId).sort());

    // Pairs keep talking across the kill: half of the senders or receivers are on the victim.
    const victim = nodes[0]!;
    const victims = placed.get(victim.nodeId)!;
    const acked: Promise<{ id: string; to: Member }>[] = [];
    let sending = true;
    const senders = crowd.filter((m) => m.index % 2 === 0).slice(0, SENDERS);
    const loop = (async () => {
      for (let k = 0; sending; k++) {
        for (const s of senders) {
          const to = crowd[s.peer]!;
          acked.push(
            s.client.send(s.channelId, `#${k} from ${s.index}`).acked.then((m) => ({ id: m.id, to })),
          );
        }
        await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));

    const killedAt = performance.now();
    await victim.kill9();
    await waitUntil(
      () => victims.every((m) => (m.opens.at(-1) ?? 0) > killedAt),
      60_000,
      'every victim back',
    );
    const backMs = victims.map((m) => m.opens.find((t) => t > killedAt)! - killedAt);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    sending = false;
    await loop;

    // Messages: every acked one reached its receiver, once.
    const sent = await Promise.all(acked);
    await waitUntil(() => sent.every((s) => s.to.received.has(s.id)), 30_000, 'every message delivered');
    const duplicated = sent.filter((s) => (s.to.received.get(s.id) ?? 0) > 1).length;

    // Where the victims went, and how often they tried the dead node after the kill.
    const survivors = nodes.slice(1).map((n) => n.nodeId);
    const spread = survivors.map((id) => victims.filter((m) => m.client.node?.nodeId === id).length);
    const deadPort = `:${victim.port}/`;
    const deadTries = victims.map(
      (m) =>
        attempts.filter((a) => a.deviceId === m.deviceId && a.at > killedAt && a.url.includes(deadPort))
          .length,
    );
    const tries = victims.map(
      (m) => attempts.filter((a) => a.deviceId === m.deviceId && a.at > killedAt).length,
    );
    const figures = {
      clients: CLIENTS,
      victims: victims.length,
      p50Ms: Math.round(quantile(backMs, 0.5)),
      p99Ms: Math.round(quantile(backMs, 0.99)),
      maxMs: Math.round(Math.max(...backMs)),
      spread,
      spreadMaxOverMin: Number((Math.max(...spread) / Math.max(1, Math.min(...spread))).toFixed(2)),
      deadNodeAttemptsMax: Math.max(...deadTries),
      deadNodeAttemptsMean: Number((deadTries.reduce((a, b) => a + b, 0) / victims.length).toFixed(3)),
      attemptsPerVictimMean: Number((tries.reduce((a, b) => a + b, 0) / victims.length).toFixed(3)),
      messagesAcked: sent.length,
      messagesLost: sent.filter((s) => !s.to.received.has(s.id)).length,
      messagesDuplicated: duplicated,
    };
    console.info(`[failover-figures] kill -9: ${JSON.stringify(figures)}`);

    expect(figures.messagesLost).toBe(0);
    expect(figures.messagesDuplicated).toBe(0);
    expect(figures.deadNodeAttemptsMax).toBeLessThanOrEqual(1);
    expect(Math.min(...spread)).toBeGreaterThan(0);
    expect(figures.spreadMaxOverMin).toBeLessThanOrEqual(3);
    // The goal is 2 s; a shared 2-core machine gets headroom, the figure itself is printed above.
    expect(figures.p99Ms).toBeLessThan(5_000);
  }, 300_000);

  it('places clients on the node with the smallest round trip (5, 40 and 120 ms added by delaying proxies)', async () => {
    await Promise.allSettled(crowd.map((m) => m.client.close()));
    await Promise.allSettled(nodes.map((n) => n.kill9()));
    await api?.stop();
    const shape = clusterShape({ broker: 'redis', registry: 'redis', registryTtlMs: 6_000 });
    for (const ms of LATENCIES_MS) proxies.push(await startDelayProxy(ms / 2));
    nodes = await Promise.all(
      proxies.map((proxy, i) =>
        startChildNode(
          { ...specFor(shape, i), publicWsUrl: `ws://127.0.0.1:${proxy.port}/v1/ws` },
          store.spec,
        ),
      ),
    );
    for (const [i, n] of nodes.entries()) proxies[i]!.setTarget(n.port);
    api = await startApiNode(shape, store);
    crowd = await createCrowd(api, CLIENTS, `pl${token()}_`);
    // Small waves: the crowd shares one process (and its event loop) with the proxies and the API node, and a
    // busy loop delays every ping alike; real clients each measure on their own device.
    await connectCrowd(crowd, 10);
    const nearest = nodes[0]!.nodeId;
    const onNode = nodes.map((n) => crowd.filter((m) => m.client.node?.nodeId === n.nodeId).length);
    const rtts = nodes.map((n) => {
      const measured = crowd
        .map((m) => m.client.node)
        .filter((p) => p?.nodeId === n.nodeId && p.rttMs !== undefined)
        .map((p) => p!.rttMs!);
      return measured.length > 0 ? Math.round(quantile(measured, 0.5)) : null;
    });
    const share = onNode[0]! / CLIENTS;
    console.info(
      `[failover-figures] placement: ${JSON.stringify({
        clients: CLIENTS,
        addedRttMs: LATENCIES_MS,
        placed: onNode,
        medianMeasuredRttMs: rtts,
        nearestShare: Number(share.toFixed(4)),
      })}`,
    );
    expect(crowd.every((m) => m.client.status === 'open')).toBe(true);
    // The goal is 95% (the figure is printed above); the assertion leaves room for a shared, loaded machine,
    // where the crowd's own event loop adds tens of ms to some pings. Random placement would give a third.
    expect(crowd.filter((m) => m.client.node?.nodeId === nearest).length / CLIENTS).toBeGreaterThanOrEqual(
      0.9,
    );
  }, 300_000);
});
