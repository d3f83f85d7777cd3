import { internalsOf } from '@natter/server-core/internals';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Cluster,
  createGroup,
  placedThenDiscovered,
  startCluster,
  token,
  users,
} from './helpers/cluster.js';
import { Device, viaDiscovery } from './helpers/device.js';
import { type Service, servicesUp } from './helpers/env.js';
import { BROKERS, clusterSuite } from './helpers/suite.js';
import { outcomeOf, perfect } from './helpers/verify.js';

const store = await clusterSuite('drain');
const WINDOW_MS = 1_000;

for (const broker of BROKERS) {
  // Discovery through Redis with the Redis broker, through ZooKeeper with NATS: both registries in a drain.
  const registry = broker === 'redis' ? 'redis' : 'zookeeper';
  const needed: Service[] = broker === 'redis' ? ['redis'] : ['nats', 'zookeeper'];
  const up = await servicesUp(`graceful drain over ${broker}`, needed);

  describe.skipIf(!up)(`graceful drain, ${broker} broker, ${registry} registry`, () => {
    let cluster: Cluster | undefined;
    const devices: Device[] = [];
    afterAll(async () => {
      await Promise.allSettled(devices.map((d) => d.stop()));
      await cluster?.stop();
    });

    it('moves every client of the draining node to the others, spread over the window, with no loss', async () => {
      cluster = await startCluster({
        broker,
        nodes: 3,
        store,
        registry,
        registryTtlMs: 1_500,
        drainWindowMs: WINDOW_MS,
      });
      const [n0, n1, n2] = cluster.nodes as [Cluster['nodes'][0], Cluster['nodes'][0], Cluster['nodes'][0]];
      const discover = viaDiscovery(n0.url);
      const registered = await n0.resources.registry!.list();
      expect(registered.map((n) => n.id).sort()).toEqual(cluster.nodes.map((n) => n.spec.nodeId).sort());

      const members = await users(n0.url, 10, 'd');
      const group = await createGroup(n0.url, members[0]!, members.slice(1));
      // Six members on the node that will drain, two on each of the others.
      const placement = [n1, n1, n1, n1, n1, n1, n0, n0, n2, n2];
      for (const [i, m] of members.entries()) {
        const d = new Device(
          `m${i}`,
          m.accessToken,
          `m${i}-${token()}`,
          placedThenDiscovered(placement[i]!.wsUrl, discover),
        );
        devices.push(d);
        await d.start();
      }
      let acked = 0;
      const stream = async (d: Device) => {
        const out = [];
        for (let i = 0; i < 40; i++) {
          out.push(await d.send(group, `${d.label} ${i}`));
          acked++;
          await new Promise((r) => setTimeout(r, 15));
        }
        return out;
      };
      const streams = Promise.all([devices[0]!, devices[1]!, devices[8]!].map(stream));
      while (acked < 30) await new Promise((r) => setTimeout(r, 10));

      const drainStarted = Date.now();
      await n1.server.drain();
      const drainMs = Date.now() - drainStarted;
      // Drained: out of discovery at once, unhealthy, no sessions left.
      expect((await n0.resources.registry!.list()).map((n) => n.id)).not.toContain(n1.spec.nodeId);
      const health = await fetch(`${n1.url}/healthz`);
      expect(health.status).toBe(503);
      expect([...internalsOf(n1.server).hub.all()]).toHaveLength(0);
      expect(drainMs).toBeLessThan(WINDOW_MS + 3_000);

      const sent = await Promise.race([
        streams,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('streams did not finish')), 60_000),
        ),
      ]);
      const ids = new Set(sent.flat().map((e) => e.message.id));
      expect(ids.size).toBe(120);
      for (const d of devices) {
        await d.until(
          () => [...ids].every((id) => d.applied.some((e) => e.message.id === id)),
          20_000,
          'all',
        );
        const outcome = outcomeOf(d, await d.fullLog(), ids);
        expect(outcome, d.label).toEqual(perfect(outcome));
      }
      const moved = devices.slice(0, 6);
      for (const d of moved) {
        expect(
          d.closes.map((c) => c.code),
          d.label,
        ).toEqual([1001]);
        expect(d.nodes.at(-1), d.label).not.toBe(n1.wsUrl);
      }
      // Clients left at random moments across the window, not in one stampede.
      const times = moved.map((d) => d.closes[0]!.at);
      expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(100);
      for (const d of devices.slice(6)) expect(d.closes, d.label).toEqual([]);
      console.info(
        `[drain ${broker}] drain took ${drainMs} ms; clients left over ${Math.max(...times) - Math.min(...times)} ms`,
      );
    }, 120_000);
  });
}
