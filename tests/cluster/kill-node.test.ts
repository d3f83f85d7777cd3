import { afterAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../helpers/server.js';
import { type ChildNode, startChildNode } from './helpers/child-nodes.js';
import {
  clusterShape,
  createGroup,
  type InProcessNode,
  openDirect,
  placedThenDiscovered,
  specFor,
  startApiNode,
  token,
  users,
} from './helpers/cluster.js';
import { Device, viaDiscovery } from './helpers/device.js';
import { PG_SHARD_URLS, servicesUp } from './helpers/env.js';
import type { TestStore } from './helpers/storage.js';
import { BROKERS, clusterSuite, shardedStore } from './helpers/suite.js';
import { outcomeOf, perfect } from './helpers/verify.js';

const store = await clusterSuite('kill-node');
const MESSAGES_PER_SENDER = 50;
// Also on the sharded store, over Redis only: a killed node may leave committed sends in its outbox,
// which the other nodes' fan-out workers drain.
const shardsUp = await servicesUp('kill -9 of a chat node on the sharded store', ['pgShards']);
const sharded = shardsUp ? await shardedStore('kill-node-sharded', PG_SHARD_URLS) : undefined;
const VARIANTS: Array<{ broker: (typeof BROKERS)[number]; store: TestStore; name: string }> = [
  ...BROKERS.map((broker) => ({ broker, store, name: store.spec.kind })),
  ...(sharded ? [{ broker: 'redis' as const, store: sharded, name: 'sharded store' }] : []),
];

for (const { broker, store, name } of VARIANTS) {
  const up = await servicesUp(`kill -9 of a chat node over ${broker}`, [broker, 'redis']);

  describe.skipIf(!up)(`kill -9 of a chat node mid-stream, over ${broker} (${name})`, () => {
    const devices: Device[] = [];
    let api: InProcessNode | undefined;
    let nodes: ChildNode[] = [];
    afterAll(async () => {
      await Promise.allSettled(devices.map((d) => d.stop()));
      await Promise.allSettled(nodes.map((n) => n.kill9()));
      await api?.stop();
    });

    it('its clients move to the other nodes through discovery: 0 lost, 0 duplicated, order kept', async () => {
      const t0 = Date.now();
      const phase = (what: string) =>
        console.info(`[kill-node ${broker} ${name}] +${Date.now() - t0} ms ${what}`);
      const shape = clusterShape({ broker, registry: 'redis', registryTtlMs: 1_500 });
      nodes = await Promise.all([0, 1, 2].map((i) => startChildNode(specFor(shape, i), store.spec)));
      api = await startApiNode(shape, store);
      phase('nodes up');
      const discover = viaDiscovery(api.url);
      const wsOf = (n: ChildNode) => `ws://127.0.0.1:${n.port}/v1/ws`;

      const members = await users(api.url, 6, 'k');
      const [p0, p1] = (await users(api.url, 2, 'kp')) as [TestUser, TestUser];
      const group = await createGroup(api.url, members[0]!, members.slice(1));
      const pair = await openDirect(api.url, p0, p1);

      const start = async (label: string, user: TestUser, node: ChildNode) => {
        const d = new Device(
          label,
          user.accessToken,
          `${label}-${token()}`,
          placedThenDiscovered(wsOf(node), discover),
        );
        devices.push(d);
        await d.start(60_000);
        return d;
      };
      const memberDevices = await Promise.all(members.map((m, i) => start(`m${i}`, m, nodes[i % 3]!)));
      const pairDevices = [await start('p0', p0, nodes[1]!), await start('p1', p1, nodes[2]!)];
      const victim = nodes[1]!;
      const onVictim = [...memberDevices, ...pairDevices].filter((d) => d.nodes[0] === wsOf(victim));
      expect(onVictim.length).toBe(3);

      // Senders on every node, the victim included; each waits for its ack before the next send.
      let sentSoFar = 0;
      const stream = async (d: Device, channel: string) => {
        const acked = [];
        for (let i = 0; i < MESSAGES_PER_SENDER; i++) {
          acked.push(await d.send(channel, `${d.label} ${i}`));
          sentSoFar++;
          await new Promise((r) => setTimeout(r, 15));
        }
        return acked;
      };
      const streams = [
        stream(memberDevices[0]!, group),
        stream(memberDevices[1]!, group),
        stream(memberDevices[2]!, group),
        stream(pairDevices[0]!, pair),
      ];
      while (sentSoFar < 40) await new Promise((r) => setTimeout(r, 10));
      const killedAt = Date.now();
      await victim.kill9();
      phase(`killed ${victim.nodeId} after ${sentSoFar} acked sends`);

      const acked = await Promise.race([
        Promise.all(streams),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('streams did not finish')), 60_000),
        ),
      ]);
      phase('every send acked');
      const groupIds = new Set(
        acked
          .slice(0, 3)
          .flat()
          .map((e) => e.message.id),
      );
      const pairIds = new Set(acked[3]!.map((e) => e.message.id));
      expect(groupIds.size).toBe(3 * MESSAGES_PER_SENDER);
      expect(pairIds.size).toBe(MESSAGES_PER_SENDER);

      const expectations: Array<[Device, Set<string>]> = [
        ...memberDevices.map((d) => [d, groupIds] as [Device, Set<string>]),
        ...pairDevices.map((d) => [d, pairIds] as [Device, Set<string>]),
      ];
      for (const [d, ids] of expectations) {
        await d.until(
          () => [...ids].every((id) => d.applied.some((e) => e.message.id === id)),
          20_000,
          'every message',
        );
        await d.connected();
        const outcome = outcomeOf(d, await d.fullLog(), ids);
        expect(outcome, d.label).toEqual(perfect(outcome));
        expect(d.failures, d.label).toEqual([]);
      }
      phase('every device verified');
      console.info(
        `[kill-node ${broker} ${name}] devices: ${expectations
          .map(
            ([d]) =>
              `${d.label} reconnects=${d.reconnects} gaps=${d.gapsDetected} liveDup=${d.liveDuplicates}`,
          )
          .join('; ')}`,
      );
      // The victim's clients came back on a surviving node, found through discovery.
      for (const d of onVictim) {
        expect(d.reconnects, d.label).toBeGreaterThanOrEqual(1);
        expect(d.nodes.at(-1), d.label).not.toBe(wsOf(victim));
      }
      // And the dead node left the registry within its TTL.
      const registry = api.resources.registry!;
      while ((await registry.list()).some((n) => n.id === victim.nodeId)) {
        expect(Date.now() - killedAt).toBeLessThan(1_500 + 6_000);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await registry.list()).map((n) => n.id).sort()).toEqual(
        [nodes[0]!.nodeId, nodes[2]!.nodeId].sort(),
      );
    }, 120_000);
  });
}
