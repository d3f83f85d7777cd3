import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, createGroup, startCluster, token, users } from './helpers/cluster.js';
import { Device, direct } from './helpers/device.js';
import { REDIS_URL, servicesUp } from './helpers/env.js';
import { ensureRedis, PrivateNats, stopRedis } from './helpers/restart.js';
import { BROKERS, clusterSuite } from './helpers/suite.js';
import { outcomeOf, perfect } from './helpers/verify.js';

const store = await clusterSuite('broker-restart');
const PER_SENDER = 60;
const localRedis = /^redis:\/\/(127\.0\.0\.1|localhost)(:6379)?\/?$/.test(REDIS_URL);

// Whatever happens, Redis is running again when this file is done.
afterAll(async () => {
  if (localRedis) await ensureRedis(REDIS_URL);
}, 30_000);

for (const broker of BROKERS) {
  let up = await servicesUp(`broker restart (${broker})`, [broker]);
  if (up && broker === 'redis' && !localRedis && process.env.CI !== 'true') {
    console.warn(
      `\n!!! SKIPPING the Redis restart test: NATTER_REDIS_URL (${REDIS_URL}) is not the local Redis it may restart.\n`,
    );
    up = false;
  }

  describe.skipIf(!up)(`restarting ${broker} mid-stream`, () => {
    let cluster: Cluster | undefined;
    let nats: PrivateNats | undefined;
    const devices: Device[] = [];
    afterAll(async () => {
      await Promise.allSettled(devices.map((d) => d.stop()));
      await cluster?.stop();
      await nats?.stopProcess();
    });

    it('nodes reconnect and resubscribe; sync fills what pub/sub dropped: 0 lost, 0 duplicated, order kept', async () => {
      // NATS: a private server this test can stop and start, so other tests on the shared one are unaffected.
      if (broker === 'nats') nats = await PrivateNats.start();
      cluster = await startCluster({ broker, nodes: 3, store, ...(nats ? { brokerUrl: nats.url } : {}) });
      const url = cluster.nodes[0]!.url;
      const members = await users(url, 6, 'b');
      const group = await createGroup(url, members[0]!, members.slice(1));
      for (const [i, m] of members.entries()) {
        const d = new Device(`m${i}`, m.accessToken, `m${i}-${token()}`, direct(cluster.nodes[i % 3]!.url));
        devices.push(d);
        await d.start();
      }
      let acked = 0;
      const stream = async (d: Device) => {
        const out = [];
        for (let i = 0; i < PER_SENDER; i++) {
          out.push(await d.send(group, `${d.label} ${i}`));
          acked++;
          await new Promise((r) => setTimeout(r, 20));
        }
        return out;
      };
      const streams = Promise.all(devices.slice(0, 3).map(stream));
      while (acked < 45) await new Promise((r) => setTimeout(r, 10));
      try {
        if (broker === 'redis') await stopRedis(REDIS_URL);
        else await nats!.stopProcess();
        const downAt = acked;
        await new Promise((r) => setTimeout(r, 1_500));
        if (broker === 'redis') await ensureRedis(REDIS_URL);
        else await nats!.startProcess();
        console.info(`[broker-restart ${broker}] ${broker} was down from ${downAt} to ${acked} acked sends`);
      } finally {
        if (broker === 'redis') await ensureRedis(REDIS_URL);
      }
      const sent = await Promise.race([
        streams,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('streams did not finish')), 60_000),
        ),
      ]);
      const ids = new Set(sent.flat().map((e) => e.message.id));
      expect(ids.size).toBe(3 * PER_SENDER);
      for (const d of devices) {
        await d.until(
          () => [...ids].every((id) => d.applied.some((e) => e.message.id === id)),
          20_000,
          'all',
        );
        const outcome = outcomeOf(d, await d.fullLog(), ids);
        expect(outcome, d.label).toEqual(perfect(outcome));
      }
      // Every node saw the outage and the recovery, and said so through onError.
      for (const node of cluster.nodes) {
        expect(node.events.get('NATTER_BROKER_UNREACHABLE') ?? 0, node.spec.nodeId).toBeGreaterThan(0);
        await devices[0]!.until(
          () => (node.events.get('NATTER_BROKER_RECONNECTED') ?? 0) > 0,
          10_000,
          `${node.spec.nodeId} to report its recovery`,
        );
      }
      console.info(
        `[broker-restart ${broker}] gaps filled by sync: ${devices.map((d) => `${d.label}=${d.gapsDetected}`).join(' ')}`,
      );
    }, 120_000);
  });
}
