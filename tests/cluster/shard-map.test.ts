import { afterAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../helpers/server.js';
import {
  clusterShape,
  createGroup,
  type InProcessNode,
  specFor,
  startInProcessNode,
  users,
} from './helpers/cluster.js';
import { Device, direct } from './helpers/device.js';
import { PG_SHARD_URLS, servicesUp } from './helpers/env.js';
import { openStore, type TestStore } from './helpers/storage.js';
import { shardedClusterSuite } from './helpers/suite.js';

/**
 * Nodes that disagree on the shard map must not both write: a message would land on one server for one
 * node and be looked for on another by the next. The second node's start is refused with an error that
 * names the servers; the first keeps serving.
 */
const up = await servicesUp('a disagreeing shard map', ['pgShards', 'redis']);
const store = up ? await shardedClusterSuite('shard-map', PG_SHARD_URLS) : undefined;

describe.skipIf(!store)('a shard map that disagrees between nodes (sharded store)', () => {
  const nodes: InProcessNode[] = [];
  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
  });

  it('is refused at start with an error naming the servers; the nodes that agree keep working', async () => {
    const shape = clusterShape({ broker: 'redis' });
    const first = await startInProcessNode(specFor(shape, 0), store!);
    nodes.push(first);
    const schema = (store!.spec as { schema: string }).schema;
    const [a, b, c] = PG_SHARD_URLS as [string, string, string];

    // The same servers in another order (virtual shards would map elsewhere), and one server fewer.
    for (const urls of [
      [a, c, b],
      [a, b],
    ]) {
      const other: TestStore = {
        ...store!,
        spec: { kind: 'sharded', urls, schema },
        forNode: () => openStore({ kind: 'sharded', urls, schema }, store!.factories),
      };
      const refused = startInProcessNode(specFor(shape, nodes.length), other);
      const error = await refused.then(
        (node) => {
          nodes.push(node);
          return undefined;
        },
        (err: unknown) => err as Error,
      );
      expect(error, `a node over ${urls.length} servers in another order started`).toBeInstanceOf(Error);
      const text = String(error?.message);
      expect(text).toMatch(/shard map/i);
      // The servers are named (by host and port, never with a password).
      expect(text).toMatch(/127\.0\.0\.1:543\d/);
    }

    // A second node with the same map starts, and the two serve one conversation.
    const second = await startInProcessNode(specFor(shape, 9), store!);
    nodes.push(second);
    const [alice, bob] = (await users(first.url, 2, 'sm')) as [TestUser, TestUser];
    const group = await createGroup(first.url, alice, [bob]);
    const da = new Device('alice', alice.accessToken, 'sm-a', direct(first.url));
    const db = new Device('bob', bob.accessToken, 'sm-b', direct(second.url));
    await da.start();
    await db.start();
    try {
      const sent = await da.send(group, 'same map');
      await db.until(() => db.applied.some((e) => e.message.id === sent.message.id), 20_000, 'the message');
    } finally {
      await da.stop();
      await db.stop();
    }
  }, 90_000);
});
