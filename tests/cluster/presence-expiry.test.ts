import { afterAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../helpers/server.js';
import { type ChildNode, startChildNode } from './helpers/child-nodes.js';
import { clusterShape, openDirect, specFor, token, users } from './helpers/cluster.js';
import { Device } from './helpers/device.js';
import { servicesUp } from './helpers/env.js';
import { BROKERS, clusterSuite } from './helpers/suite.js';

const store = await clusterSuite('presence-expiry');
const GRACE_MS = 1_500;

for (const broker of BROKERS) {
  const up = await servicesUp(`presence expiry over ${broker}`, [broker, 'redis']);

  describe.skipIf(!up)(`presence of a killed node's users, Redis presence store, over ${broker}`, () => {
    const devices: Device[] = [];
    let nodes: ChildNode[] = [];
    afterAll(async () => {
      await Promise.allSettled(devices.map((d) => d.stop()));
      await Promise.allSettled(nodes.map((n) => n.kill9()));
    });

    it('goes offline after the grace period, reported exactly once to each contact device', async () => {
      const shape = clusterShape({ broker, presenceGraceMs: GRACE_MS });
      nodes = await Promise.all([0, 1, 2].map((i) => startChildNode(specFor(shape, i), store.spec)));
      const ws = (n: ChildNode) => `ws://127.0.0.1:${n.port}/v1/ws`;
      const [xavier, yara] = (await users(nodes[0]!.url, 2, 'px')) as [TestUser, TestUser];
      await openDirect(nodes[0]!.url, xavier, yara);

      // Yara has a device on node 0 and one on node 1; both nodes sweep the shared store.
      const watchers = [0, 1].map(
        (i) =>
          new Device(`yara${i}`, yara.accessToken, `y${i}-${token()}`, async () => ws(nodes[i]!), {
            pingEveryMs: 300,
          }),
      );
      // Xavier lives on node 2 only; once it dies, his device cannot reconnect anywhere.
      let xavierPlaced = false;
      const x = new Device(
        'xavier',
        xavier.accessToken,
        `x-${token()}`,
        async () => {
          if (xavierPlaced) throw new Error('no node for xavier');
          xavierPlaced = true;
          return ws(nodes[2]!);
        },
        { pingEveryMs: 300 },
      );
      devices.push(...watchers, x);
      for (const d of watchers) await d.start();
      await x.start();
      const statusOf = (d: Device) =>
        d.events
          .filter((e) => e.frame.t === 'presence' && e.frame.user.userId === xavier.id)
          .map((e) => ({ at: e.at, status: e.frame.t === 'presence' ? e.frame.user.status : '' }));
      for (const d of watchers) {
        await d.until(() => statusOf(d).some((s) => s.status === 'online'), 10_000, 'xavier online');
      }

      const killedAt = Date.now();
      await nodes[2]!.kill9();
      for (const d of watchers) {
        await d.until(
          () => statusOf(d).some((s) => s.status === 'offline'),
          GRACE_MS + 5_000,
          'xavier offline',
        );
      }
      // Let any second report arrive before counting.
      await new Promise((r) => setTimeout(r, 1_000));
      for (const d of watchers) {
        const offline = statusOf(d).filter((s) => s.status === 'offline');
        expect(offline, `${d.label}: one offline report`).toHaveLength(1);
        const after = offline[0]!.at - killedAt;
        // Not before the grace period (less the age of his last ping), and within a few sweeps after it.
        expect(after, d.label).toBeGreaterThanOrEqual(GRACE_MS - 1_000);
        expect(after, d.label).toBeLessThan(GRACE_MS + 5_000);
        console.info(`[presence ${broker}] ${d.label} saw xavier offline ${after} ms after the kill`);
      }
      const listed = await watchers[0]!.request({ t: 'presence.get', userIds: [xavier.id] });
      expect(listed.t === 'presence.list' && listed.users[0]).toMatchObject({
        userId: xavier.id,
        status: 'offline',
      });
      const last = listed.t === 'presence.list' ? listed.users[0]!.lastActiveAt! : 0;
      expect(Math.abs(last - killedAt)).toBeLessThan(1_500);
    }, 60_000);
  });
}
