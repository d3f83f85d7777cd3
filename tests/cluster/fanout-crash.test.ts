import type { MessageEntry } from '@natter/protocol';
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
import { freezeSyncLogs, messagesStored, outboxBacklog, type SyncLogFreeze } from './helpers/shards.js';
import { shardedClusterSuite } from './helpers/suite.js';
import { outcomeOf, perfect } from './helpers/verify.js';

/**
 * A chat node killed between commit and fan-out (sharded store on the three shard servers). The sync logs
 * are frozen from outside (a table lock every append waits for, reads go on), so the sends commit on their
 * channels' servers, with their outbox rows, and none can fan out; then the node is kill -9ed, the freeze
 * lifted, and the surviving nodes drain the outbox.
 */
const up = await servicesUp('a chat node killed between commit and fan-out', ['pgShards', 'redis']);
const store = up ? await shardedClusterSuite('fanout-crash', PG_SHARD_URLS) : undefined;
const MESSAGES_PER_SENDER = 12;

describe.skipIf(!store)('a chat node killed between commit and fan-out (sharded store)', () => {
  const devices: Device[] = [];
  let api: InProcessNode | undefined;
  let nodes: ChildNode[] = [];
  let freeze: SyncLogFreeze | undefined;
  afterAll(async () => {
    await freeze?.release();
    await Promise.allSettled(devices.map((d) => d.stop()));
    await Promise.allSettled(nodes.map((n) => n.kill9()));
    await api?.stop();
  }, 60_000);

  it('another node drains its outbox: 0 lost, 0 duplicated, order kept', async () => {
    const t0 = Date.now();
    const phase = (what: string) => console.info(`[fanout-crash] +${Date.now() - t0} ms ${what}`);
    const schema = (store!.spec as { schema: string }).schema;
    const shape = clusterShape({ broker: 'redis', registry: 'redis', registryTtlMs: 1_500 });
    nodes = await Promise.all([0, 1].map((i) => startChildNode(specFor(shape, i), store!.spec)));
    api = await startApiNode(shape, store!);
    const discover = viaDiscovery(api.url);
    const wsOf = (n: ChildNode) => `ws://127.0.0.1:${n.port}/v1/ws`;
    const [victim, survivor] = nodes as [ChildNode, ChildNode];

    const members = await users(api.url, 4, 'fc');
    const [p0, p1] = (await users(api.url, 2, 'fcp')) as [TestUser, TestUser];
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
      await d.start();
      return d;
    };
    // The senders on the victim, the receivers on the survivor.
    const senders = [await start('m0', members[0]!, victim), await start('m1', members[1]!, victim)];
    const receivers = [await start('m2', members[2]!, survivor), await start('m3', members[3]!, survivor)];
    const pairSender = await start('p0', p0, victim);
    const pairReceiver = await start('p1', p1, survivor);
    phase('nodes and devices up');

    // A first message each, fanned out normally: the path works before the freeze.
    const warm = [await senders[0]!.send(group, 'before'), await pairSender.send(pair, 'before')];
    await receivers[0]!.until(
      () => receivers[0]!.applied.some((e) => e.message.id === warm[0]!.message.id),
      20_000,
      'warm-up',
    );

    const storedBefore = await messagesStored(PG_SHARD_URLS, schema);
    freeze = await freezeSyncLogs(PG_SHARD_URLS, schema);
    phase('sync logs frozen');
    // Every send goes out at once (no waiting for acks): each commits on its channel's server, with its
    // outbox rows, and waits there for a fan-out that cannot happen (the node acks after its own fan-out,
    // so none is acked yet).
    const sends: Array<Promise<MessageEntry>> = [];
    for (let i = 0; i < MESSAGES_PER_SENDER; i++) {
      for (const d of senders) sends.push(d.send(group, `${d.label} ${i}`));
      sends.push(pairSender.send(pair, `p0 ${i}`));
    }
    const committed = sends.length;
    const deadline = Date.now() + 30_000;
    while ((await messagesStored(PG_SHARD_URLS, schema)) < storedBefore + committed) {
      if (Date.now() > deadline) throw new Error('the sends did not commit within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Every recipient (4 group members, 2 of the pair) has a row waiting.
    expect(await outboxBacklog(PG_SHARD_URLS, schema)).toBeGreaterThanOrEqual(6);
    phase(`${committed} sends committed, their fan-out waiting in the outbox`);
    await victim.kill9();
    phase(`killed ${victim.nodeId}`);
    await freeze.release();
    phase('sync logs released');

    // The senders come back through discovery and re-send what was not acked (same clientMsgId: the
    // store answers with the original); the survivors drain the outbox.
    const acked = await Promise.race([
      Promise.all(sends),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('sends were not acked')), 60_000)),
    ]);
    phase('every send acked');
    const groupIds = new Set(
      [warm[0]!, ...acked].filter((e) => e.message.channelId === group).map((e) => e.message.id),
    );
    const pairIds = new Set(
      [warm[1]!, ...acked].filter((e) => e.message.channelId === pair).map((e) => e.message.id),
    );
    expect(groupIds.size).toBe(2 * MESSAGES_PER_SENDER + 1);
    expect(pairIds.size).toBe(MESSAGES_PER_SENDER + 1);
    const expectations: Array<[Device, Set<string>]> = [
      ...[...senders, ...receivers].map((d) => [d, groupIds] as [Device, Set<string>]),
      [pairSender, pairIds],
      [pairReceiver, pairIds],
    ];
    for (const [d, ids] of expectations) {
      await d.until(
        () => [...ids].every((id) => d.applied.some((e) => e.message.id === id)),
        60_000,
        'every message',
      );
      await d.connected();
      const outcome = outcomeOf(d, await d.fullLog(), ids);
      expect(outcome, d.label).toEqual(perfect(outcome));
      expect(d.failures, d.label).toEqual([]);
    }
    // The outbox is empty again: everything was fanned out, once.
    await expect.poll(() => outboxBacklog(PG_SHARD_URLS, schema), { timeout: 30_000, interval: 200 }).toBe(0);
    for (const d of senders) expect(d.nodes.at(-1), d.label).not.toBe(wsOf(victim));
    phase('every device verified');
  }, 180_000);
});
