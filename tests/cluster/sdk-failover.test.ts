import { ChatClient, type Message } from '@natter/client';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildNode, startChildNode } from './helpers/child-nodes.js';
import { clusterShape, type InProcessNode, specFor, startApiNode, token } from './helpers/cluster.js';
import { servicesUp } from './helpers/env.js';
import { clusterSuite } from './helpers/suite.js';

const store = await clusterSuite('sdk-failover');
const up = await servicesUp('ChatClient failover', ['redis']);

/** Connections a child node holds now, from its /metrics. */
async function connectionsOf(node: ChildNode): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return Number(/^natter_connections (\S+)$/m.exec(text)?.[1] ?? 0);
}

describe.skipIf(!up)('@natter/client across a chat node crash (Redis broker, discovery)', () => {
  const clients: ChatClient[] = [];
  let nodes: ChildNode[] = [];
  let api: InProcessNode | undefined;
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(nodes.map((n) => n.kill9()));
    await api?.stop();
  });

  it('ChatClient finds a live node through discovery after kill -9 and misses nothing', async () => {
    const shape = clusterShape({ broker: 'redis', registry: 'redis', registryTtlMs: 1_500 });
    nodes = await Promise.all([0, 1, 2].map((i) => startChildNode(specFor(shape, i), store.spec)));
    api = await startApiNode(shape, store);
    // The client asks discovery where to connect, first and after every failure.
    const client = () => {
      const c = new ChatClient({ url: api!.url, discovery: true, backoff: { baseMs: 100, maxMs: 1_000 } });
      clients.push(c);
      return c;
    };
    const alice = client();
    const bob = client();
    await alice.signup(`sdk_a_${token()}`, 'correct horse battery');
    await bob.signup(`sdk_b_${token()}`, 'correct horse battery');
    const received: Message[] = [];
    bob.on('message', ({ message }) => {
      if (message.kind === 'text') received.push(message);
    });
    await alice.connect();
    await bob.connect();
    await Promise.all([alice.whenSynced(), bob.whenSynced()]);
    const channel = await alice.openDirect(bob.userId!);

    const acked: Message[] = [];
    for (let i = 0; i < 20; i++) acked.push(await alice.send(channel.id, `before ${i}`).acked);
    // The node holding them dies (discovery may have put both on one node: then both move).
    const loads = await Promise.all(nodes.map(connectionsOf));
    expect(loads.reduce((a, b) => a + b, 0)).toBe(2);
    const victim = nodes[loads.findIndex((n) => n > 0)]!;
    await victim.kill9();
    const sends = Array.from({ length: 20 }, (_, i) => alice.send(channel.id, `after ${i}`).acked);
    acked.push(
      ...(await Promise.race([
        Promise.all(sends),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('sends not acked')), 30_000)),
      ])),
    );

    const deadline = Date.now() + 20_000;
    const ids = new Set(acked.map((m) => m.id));
    while ([...ids].some((id) => !received.some((m) => m.id === id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const got = received.filter((m) => ids.has(m.id));
    expect(got.map((m) => m.id)).toEqual(acked.map((m) => m.id)); // all, once, in order
    expect(new Set(acked.map((m) => m.id)).size).toBe(40);
    expect(alice.stats().reconnects + bob.stats().reconnects).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
