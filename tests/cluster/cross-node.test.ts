import { CloseCode } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, type TestUser } from '../helpers/server.js';
import { type Cluster, createGroup, openDirect, startCluster, token, users } from './helpers/cluster.js';
import { Device, direct, type Locate } from './helpers/device.js';
import { PG_SHARD_URLS, servicesUp } from './helpers/env.js';
import type { TestStore } from './helpers/storage.js';
import { BROKERS, clusterSuite, shardedStore } from './helpers/suite.js';
import { outcomeOf, perfect } from './helpers/verify.js';

const store = await clusterSuite('cross-node');
// The same tests on the sharded store (three PostgreSQL servers), over Redis only: the broker is not what
// the sharded store changes, and CI time is counted.
const shardsUp = await servicesUp('cross-node delivery on the sharded store', ['pgShards']);
const sharded = shardsUp ? await shardedStore('cross-node-sharded', PG_SHARD_URLS) : undefined;
const VARIANTS: Array<{ broker: (typeof BROKERS)[number]; store: TestStore; name: string }> = [
  ...BROKERS.map((broker) => ({ broker, store, name: store.spec.kind })),
  ...(sharded
    ? [{ broker: 'redis' as const, store: sharded, name: 'sharded store, 3 PostgreSQL servers' }]
    : []),
];

for (const { broker, store, name } of VARIANTS) {
  const up = await servicesUp(`cross-node delivery over ${broker}`, [broker, 'redis']);

  // A send on the sharded store waits for two commits and its fan-out: on a loaded 2-core machine the
  // 75 serial sends of the group test took longer than the default 30 s.
  describe.skipIf(!up)(
    `cross-node delivery over ${broker} (3 in-process nodes, ${name})`,
    { timeout: 120_000 },
    () => {
      let cluster: Cluster;
      const devices: Device[] = [];
      const device = async (label: string, user: TestUser, locate: Locate) => {
        const d = new Device(label, user.accessToken, `${label}-${token()}`, locate);
        devices.push(d);
        await d.start();
        return d;
      };

      beforeAll(async () => {
        cluster = await startCluster({ broker, nodes: 3, store, presenceGraceMs: 30_000 });
      });
      afterAll(async () => {
        await Promise.allSettled(devices.map((d) => d.stop()));
        await cluster?.stop();
      });

      const at = (i: number) => direct(cluster.nodes[i]!.url);

      it('1-1: every message reaches the peer and the sender on other nodes, live, once, in order', async () => {
        const [alice, bob] = (await users(cluster.nodes[0]!.url, 2, 'p')) as [TestUser, TestUser];
        const channel = await openDirect(cluster.nodes[0]!.url, alice, bob);
        const a1 = await device('alice-phone', alice, at(0));
        const a2 = await device('alice-laptop', alice, at(2));
        const b1 = await device('bob-phone', bob, at(1));
        const b2 = await device('bob-laptop', bob, at(2));
        const sent = [];
        for (let i = 0; i < 40; i++) sent.push(await a1.send(channel, `hi ${i}`));
        const ids = new Set(sent.map((e) => e.message.id));
        for (const d of [a2, b1, b2]) {
          await d.until(
            () => d.applied.filter((e) => ids.has(e.message.id)).length === 40,
            10_000,
            '40 messages',
          );
        }
        for (const d of [a1, a2, b1, b2]) {
          const outcome = outcomeOf(d, await d.fullLog(), ids);
          expect(outcome).toEqual(perfect(outcome));
          // A healthy broker delivers everything live: no gap had to be filled.
          expect(outcome.gapsDetected, d.label).toBe(0);
        }
      });

      it('group: members on three nodes get every message of three concurrent senders, in channel order', async () => {
        const members = await users(cluster.nodes[0]!.url, 5, 'g');
        const channel = await createGroup(cluster.nodes[0]!.url, members[0]!, members.slice(1));
        const ds = await Promise.all(members.map((m, i) => device(`member${i}`, m, at(i % 3))));
        const senders = ds.slice(0, 3);
        const acked = await Promise.all(
          senders.map(async (d, s) => {
            const out = [];
            for (let i = 0; i < 25; i++) out.push(await d.send(channel, `s${s} m${i}`));
            return out;
          }),
        );
        const ids = new Set(acked.flat().map((e) => e.message.id));
        expect(ids.size).toBe(75);
        for (const d of ds) {
          await d.until(
            () => d.applied.filter((e) => ids.has(e.message.id)).length === 75,
            10_000,
            '75 messages',
          );
          const outcome = outcomeOf(d, await d.fullLog(), ids);
          expect(outcome).toEqual(perfect(outcome));
        }
        // Every member saw the channel in the same order (seq), whatever node they were on.
        const orderOf = (d: Device) =>
          d.applied.filter((e) => ids.has(e.message.id)).map((e) => e.message.id);
        for (const d of ds.slice(1)) expect(orderOf(d)).toEqual(orderOf(ds[0]!));
      });

      it('a device reconnecting to another node resumes from its cursor (no sticky sessions)', async () => {
        const [alice, bob] = (await users(cluster.nodes[0]!.url, 2, 'r')) as [TestUser, TestUser];
        const channel = await openDirect(cluster.nodes[0]!.url, alice, bob);
        const a = await device('alice', alice, at(0));
        let hop = 0;
        // Each (re)connect of bob goes to the next node.
        const b = await device('bob', bob, async () => cluster.nodes[hop++ % 3]!.wsUrl);
        const ids = new Set<string>();
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 10; i++) ids.add((await a.send(channel, `r${round} ${i}`)).message.id);
          await b.until(
            () => b.applied.filter((e) => ids.has(e.message.id)).length === ids.size,
            10_000,
            'the round',
          );
          // The node drops bob; he comes back on the next node and continues from his cursor.
          const node = cluster.nodes.find((n) => n.wsUrl === b.nodes.at(-1))!;
          node.server.closeSessions(bob.id, undefined, 1001, 'moving');
          await b.until(() => b.nodes.length === round + 2 && b.isOpen, 10_000, 'the reconnect');
          for (let i = 0; i < 5; i++) ids.add((await a.send(channel, `while away ${round} ${i}`)).message.id);
        }
        await b.until(
          () => b.applied.filter((e) => ids.has(e.message.id)).length === ids.size,
          10_000,
          'all',
        );
        expect(new Set(b.nodes).size).toBe(3);
        const outcome = outcomeOf(b, await b.fullLog(), ids);
        expect(outcome).toEqual(perfect(outcome));
      });

      it('read receipts reach the sender on another node', async () => {
        const [alice, bob] = (await users(cluster.nodes[0]!.url, 2, 'rc')) as [TestUser, TestUser];
        const channel = await openDirect(cluster.nodes[0]!.url, alice, bob);
        const a = await device('alice', alice, at(0));
        const b = await device('bob', bob, at(1));
        const entry = await a.send(channel, 'read me');
        await b.until(() => b.cursor >= 2, 10_000, 'the message');
        await b.request({ t: 'read', channelId: channel, seq: entry.message.seq });
        await a.until(
          () =>
            a.events.some(
              (e) =>
                e.frame.t === 'receipt' && e.frame.userId === bob.id && e.frame.readSeq === entry.message.seq,
            ),
          10_000,
          "bob's receipt",
        );
      });

      it('presence changes reach contacts on other nodes', async () => {
        const [alice, carol] = (await users(cluster.nodes[0]!.url, 2, 'pr')) as [TestUser, TestUser];
        await openDirect(cluster.nodes[0]!.url, alice, carol);
        const a = await device('alice', alice, at(0));
        await device('carol', carol, at(2));
        await a.until(
          () =>
            a.events.some(
              (e) =>
                e.frame.t === 'presence' &&
                e.frame.user.userId === carol.id &&
                e.frame.user.status === 'online',
            ),
          10_000,
          'carol online',
        );
        const listed = await a.request({ t: 'presence.get', userIds: [carol.id] });
        expect(listed.t === 'presence.list' && listed.users[0]?.status).toBe('online');
      });

      it('typing indicators reach members on other nodes', async () => {
        const [alice, bob] = (await users(cluster.nodes[0]!.url, 2, 'ty')) as [TestUser, TestUser];
        const channel = await openDirect(cluster.nodes[0]!.url, alice, bob);
        const a = await device('alice', alice, at(0));
        const b = await device('bob', bob, at(1));
        a.fire({ t: 'typing', channelId: channel, active: true });
        await b.until(
          () => b.events.some((e) => e.frame.t === 'typing' && e.frame.userId === alice.id),
          3_000,
          'typing',
        );
      });

      it("a logout on one node closes the user's sockets on the others at once", async () => {
        const [carol] = (await users(cluster.nodes[0]!.url, 1, 'lo')) as [TestUser];
        const sockets = [1, 2].map((i) => {
          const url = new URL(`${cluster.nodes[i]!.url.replace('http', 'ws')}/v1/ws`);
          url.searchParams.set('access_token', carol.accessToken);
          return new WebSocket(url);
        });
        await Promise.all(sockets.map((ws) => new Promise((resolve) => ws.once('open', resolve))));
        const closed = sockets.map(
          (ws) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code))),
        );
        // The order travels on the user's topic, which a node follows once the socket's session started.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const started = Date.now();
        const logout = await api(cluster.nodes[0]!.url, carol, 'POST', '/v1/auth/logout', {
          allDevices: true,
        });
        expect(logout.status).toBe(204);
        expect(await Promise.all(closed)).toEqual([CloseCode.SESSION_REVOKED, CloseCode.SESSION_REVOKED]);
        // Well before the token's expiry, and before any revocation cache would matter.
        expect(Date.now() - started).toBeLessThan(2_000);
      });
    },
  );
}
