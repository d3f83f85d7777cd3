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
import {
  freezeSyncLogs,
  messagesStored,
  outboxBacklog,
  type SyncLogFreeze,
  textIdsOn,
} from './helpers/shards.js';
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

/** `returns`: the senders reconnect and re-send; `gone`: they never come back (their phones died too). */
const FATES = ['returns', 'gone'] as const;

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

  it.each(FATES)(
    'another node drains its outbox, senders %s: 0 lost, 0 duplicated, order kept',
    async (fate) => {
      const t0 = Date.now();
      const phase = (what: string) => console.info(`[fanout-crash ${fate}] +${Date.now() - t0} ms ${what}`);
      // Each case on nodes and devices of its own.
      await freeze?.release();
      await Promise.allSettled(devices.map((d) => d.stop()));
      await Promise.allSettled(nodes.map((n) => n.kill9()));
      await api?.stop();
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
        await d.start(60_000);
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
      // Every send goes out at once (no waiting for acks). The first ones commit on their channel's server
      // with their outbox rows and wait there for a fan-out that cannot happen (the node acks a send after
      // its own fan-out, so none is acked); the later ones wait in the node behind them.
      const sends: Array<Promise<MessageEntry>> = [];
      for (let i = 0; i < MESSAGES_PER_SENDER; i++) {
        for (const d of senders) sends.push(d.send(group, `${d.label} ${i}`));
        sends.push(pairSender.send(pair, `p0 ${i}`));
      }
      const deadline = Date.now() + 30_000;
      let committed = 0;
      let waiting = 0;
      for (;;) {
        committed = (await messagesStored(PG_SHARD_URLS, schema)) - storedBefore;
        waiting = await outboxBacklog(PG_SHARD_URLS, schema);
        if (committed > 0 && waiting > 0) break;
        if (Date.now() > deadline)
          throw new Error(`no send committed within 30 s (${committed}, ${waiting})`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // A moment more, so every send the node can commit meanwhile is committed.
      await new Promise((r) => setTimeout(r, 500));
      committed = (await messagesStored(PG_SHARD_URLS, schema)) - storedBefore;
      waiting = await outboxBacklog(PG_SHARD_URLS, schema);
      expect(
        devices.reduce((n, d) => n + d.unacked, 0),
        'acked before the fan-out',
      ).toBe(sends.length);
      phase(`${committed} of ${sends.length} sends committed, none acked; ${waiting} outbox rows waiting`);
      await victim.kill9();
      phase(`killed ${victim.nodeId}`);
      await freeze.release();
      phase('sync logs released');

      if (fate === 'gone') {
        // Nobody will send again: only the surviving nodes' fan-out workers can deliver what was committed.
        for (const d of [...senders, pairSender]) await d.stop();
        const committedIds = await textIdsOn(PG_SHARD_URLS, schema, [group, pair]);
        const groupIds = new Set([
          warm[0]!.message.id,
          ...committedIds.filter((m) => m.channelId === group).map((m) => m.id),
        ]);
        const pairIds = new Set([
          warm[1]!.message.id,
          ...committedIds.filter((m) => m.channelId === pair).map((m) => m.id),
        ]);
        expect(groupIds.size + pairIds.size).toBe(committed + 2);
        // First the drain (the outbox empties), then live delivery of what it copied (the receivers do no
        // sync of their own: nothing else happens in their channels).
        await expect
          .poll(() => outboxBacklog(PG_SHARD_URLS, schema), { timeout: 30_000, interval: 200 })
          .toBe(0);
        phase('the outbox was drained by the surviving nodes');
        for (const [d, ids] of [
          ...receivers.map((r) => [r, groupIds] as const),
          [pairReceiver, pairIds] as const,
        ]) {
          await d.until(
            () => [...ids].every((id) => d.applied.some((e) => e.message.id === id)),
            60_000,
            'every committed message',
          );
          const outcome = outcomeOf(d, await d.fullLog(), ids);
          expect(outcome, d.label).toEqual(perfect(outcome));
          expect(d.failures, d.label).toEqual([]);
        }
      } else {
        // The senders come back through discovery and re-send what was not acked (same clientMsgId: the
        // store answers with the originals of the committed ones).
        const acked = await Promise.race([
          Promise.all(sends),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('sends were not acked')), 60_000),
          ),
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
        for (const d of senders) expect(d.nodes.at(-1), d.label).not.toBe(wsOf(victim));
      }
      // The outbox is empty again: everything was fanned out, once.
      await expect
        .poll(() => outboxBacklog(PG_SHARD_URLS, schema), { timeout: 30_000, interval: 200 })
        .toBe(0);
      phase('every device verified');
    },
    180_000,
  );
});
