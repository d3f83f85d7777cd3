import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  runBrokerConformance,
  runPresenceStoreConformance,
  runRegistryConformance,
} from '@natter/broker-conformance';
import type { NodeRegistry, PresenceStore, StorageAdapter } from '@natter/server-core';
import { runStorageConformance } from '@natter/storage-conformance';
import { createSqliteStorage } from '@natter/storage-sqlite';
import { afterAll } from 'vitest';
import { connectWorkerParts, MulticoreHub } from '../src/multicore/hub.js';
import { messagePortPort } from '../src/multicore/port.js';

// Each "worker" is a MessagePort pair: real structured-clone message passing, as node:cluster's IPC
// channel with `serialization: 'advanced'` does between processes.
const ports: MessagePort[] = [];
afterAll(() => {
  for (const port of ports) port.close();
});

function pipe(hub: MulticoreHub) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  hub.attach(messagePortPort(port1));
  return connectWorkerParts(messagePortPort(port2));
}

async function sqliteHub(dir: string): Promise<{ hub: MulticoreHub; storage: StorageAdapter }> {
  const storage = createSqliteStorage({ path: join(dir, 'natter.db') });
  await storage.open();
  return { hub: new MulticoreHub(storage), storage };
}

// One primary for the broker, presence and registry checks; each check's stores are new workers.
const sharedStorageDir = mkdtempSync(join(tmpdir(), 'natter-mc-hub-'));
const shared = await sqliteHub(sharedStorageDir);
afterAll(async () => {
  await shared.storage.close();
  rmSync(sharedStorageDir, { recursive: true, force: true });
});

runBrokerConformance({
  name: 'ipc (multicore primary relay)',
  factory: async () => (await pipe(shared.hub)).broker,
});

runPresenceStoreConformance({
  name: 'ipc (multicore primary)',
  factory: async () => {
    // A fresh primary per test: the store must start empty.
    const hub = new MulticoreHub(shared.storage);
    const open = async (): Promise<PresenceStore> => (await pipe(hub)).presence;
    return { store: await open(), another: open, cleanup: async () => undefined };
  },
});

runRegistryConformance({
  name: 'ipc (multicore primary)',
  factory: async () => {
    const hub = new MulticoreHub(shared.storage);
    const open = async (): Promise<NodeRegistry> => (await pipe(hub)).registry;
    return { registry: await open(), another: open, cleanup: async () => undefined };
  },
});

runStorageConformance({
  name: 'ipc (multicore worker over the primary’s sqlite)',
  factory: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-mc-store-'));
    let current = await sqliteHub(dir);
    return {
      adapter: (await pipe(current.hub)).storage,
      // A restart of the whole deployment: the primary closes its store and opens it again.
      reopen: async () => {
        await current.storage.close();
        current = await sqliteHub(dir);
        return (await pipe(current.hub)).storage;
      },
      cleanup: async () => {
        await current.storage.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
