import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runRegistryConformance, uniqueToken } from '@natter/broker-conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { createZooKeeperNodeRegistry } from '../src/index.js';
import { serviceReachable } from './service.js';

const connectionString = process.env.NATTER_ZOOKEEPER_URL ?? '127.0.0.1:2181';
const available = await serviceReachable(
  `tcp://${connectionString.split(',')[0]}`,
  'NATTER_ZOOKEEPER_URL',
  'ZooKeeper',
);

if (available) {
  runRegistryConformance({
    name: 'zookeeper',
    factory: async () => {
      const basePath = `/natter-test/${uniqueToken()}/nodes`;
      return {
        registry: createZooKeeperNodeRegistry({ connectionString, basePath }),
        another: async () => createZooKeeperNodeRegistry({ connectionString, basePath }),
        expiresWithoutHeartbeat: false,
        cleanup: async () => {},
      };
    },
  });
}

describe.skipIf(!available)('zookeeper registry beyond the shared suite', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it("drops a crashed node's entry when its session expires", async () => {
    const basePath = `/natter-test/${uniqueToken()}/nodes`;
    const reader = createZooKeeperNodeRegistry({ connectionString, basePath });
    try {
      const child = spawn(
        process.execPath,
        [fileURLToPath(new URL('./crash-child.mjs', import.meta.url)), connectionString, basePath, 'crashy'],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child did not register')), 10_000);
        child.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('registered')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect((await reader.list()).map((n) => n.id)).toEqual(['crashy']);
      const killedAt = Date.now();
      child.kill('SIGKILL');
      while ((await reader.list()).length > 0 && Date.now() - killedAt < 15_000) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const gone = Date.now() - killedAt;
      expect(await reader.list()).toEqual([]);
      // Session timeout 4 s (the server's minimum with tickTime 2 s), plus the server's expiry tick.
      expect(gone).toBeLessThan(10_000);
    } finally {
      await reader.close();
    }
  });
});
