import type { NodeInfo } from '@natter/server-core';
import { expect } from 'vitest';
import { defineCheck, type RegistryCheckContext } from '../harness.js';
import { sleep } from '../wait.js';

const check = (
  group: string,
  title: string,
  run: (context: RegistryCheckContext) => Promise<void>,
  requires?: (context: RegistryCheckContext) => boolean,
) => defineCheck<RegistryCheckContext>(group, title, run, requires);

const node = (id: string, extra: Partial<NodeInfo> = {}): NodeInfo => ({
  id,
  wsUrl: `ws://127.0.0.1:9/${id}/v1/ws`,
  region: 'eu',
  capacity: 1000,
  load: 0,
  ...extra,
});

const sorted = (nodes: NodeInfo[]) => [...nodes].sort((a, b) => a.id.localeCompare(b.id));

/** Every check of the NodeRegistry contract, by name. */
export const registryChecks = {
  listed: check(
    'heartbeat',
    'a node that heartbeats is listed with what it announced, on every reader',
    async (c) => {
      const [a, b] = [node(c.nodeId()), node(c.nodeId(), { region: 'us', capacity: 5, load: 3 })];
      await c.registry.heartbeat(a, 10_000);
      await c.registry.heartbeat(b, 10_000);
      expect(sorted(await c.registry.list())).toEqual(sorted([a, b]));
      const reader = await c.another();
      try {
        expect(sorted(await reader.list())).toEqual(sorted([a, b]));
      } finally {
        await reader.close();
      }
    },
  ),

  renewed: check('heartbeat', 'a later heartbeat replaces the entry (load changes)', async (c) => {
    const id = c.nodeId();
    await c.registry.heartbeat(node(id, { load: 1 }), 10_000);
    await c.registry.heartbeat(node(id, { load: 42 }), 10_000);
    const listed = await c.registry.list();
    expect(listed).toHaveLength(1);
    expect(listed[0]?.load).toBe(42);
  }),

  deregister: check('deregister', 'deregister removes the entry at once and is idempotent', async (c) => {
    const [a, b] = [node(c.nodeId()), node(c.nodeId())];
    await c.registry.heartbeat(a, 10_000);
    await c.registry.heartbeat(b, 10_000);
    await c.registry.deregister(a.id);
    expect(await c.registry.list()).toEqual([b]);
    await c.registry.deregister(a.id);
    await c.registry.deregister('never-registered');
    expect(await c.registry.list()).toEqual([b]);
  }),

  expires: check(
    'liveness',
    'an entry not renewed within its ttl is no longer listed',
    async (c) => {
      const [dying, living] = [node(c.nodeId()), node(c.nodeId())];
      await c.registry.heartbeat(dying, 300);
      await c.registry.heartbeat(living, 10_000);
      expect(await c.registry.list()).toHaveLength(2);
      await sleep(450);
      expect(await c.registry.list()).toEqual([living]);
    },
    (c) => c.expiresWithoutHeartbeat,
  ),

  renewalKeepsAlive: check(
    'liveness',
    'an entry renewed before its ttl stays listed',
    async (c) => {
      const a = node(c.nodeId());
      for (let i = 0; i < 5; i++) {
        await c.registry.heartbeat(a, 300);
        await sleep(100);
      }
      expect(await c.registry.list()).toEqual([a]);
    },
    (c) => c.expiresWithoutHeartbeat,
  ),

  closedNodeGone: check(
    'liveness',
    'the entries of a closed registry disappear for other readers',
    async (c) => {
      const writer = await c.another();
      const a = node(c.nodeId());
      await writer.heartbeat(a, 400);
      expect(await c.registry.list()).toEqual([a]);
      await writer.close();
      const deadline = Date.now() + 5_000;
      while ((await c.registry.list()).length > 0 && Date.now() < deadline) await sleep(50);
      expect(await c.registry.list()).toEqual([]);
    },
  ),

  closed: check('lifecycle', 'calls after close reject', async (c) => {
    const other = await c.another();
    await other.close();
    await expect(other.list()).rejects.toThrow();
    await expect(other.heartbeat(node(c.nodeId()), 1_000)).rejects.toThrow();
  }),
};

/** Names of the registry checks. */
export type RegistryCheckName = keyof typeof registryChecks;
