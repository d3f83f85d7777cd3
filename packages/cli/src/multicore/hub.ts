import {
  type Broker,
  BrokerError,
  BrokerErrorCode,
  MemoryPresenceStore,
  type NodeRegistry,
  type PresenceStore,
  type StorageAdapter,
} from '@natter/server-core';
import { BrokerHub, createIpcBroker } from './ipc-broker.js';
import { connectIpcStorage } from './ipc-storage.js';
import { MemoryNodeRegistry } from './memory-registry.js';
import type { IpcPort } from './port.js';
import { remoteObject } from './remote-object.js';
import { RpcClient, serveRpc } from './rpc.js';
import { StorageHost } from './storage-host.js';

/**
 * What the primary of a multicore deployment keeps for all its workers: the store (the only process that
 * opens it), the broker relay, the presence store and the node registry. Each worker is attached by its
 * pipe; nothing here touches sockets.
 */
export class MulticoreHub {
  private readonly broker = new BrokerHub();
  private readonly store: StorageHost;
  readonly presence: PresenceStore = new MemoryPresenceStore();
  readonly registry: NodeRegistry = new MemoryNodeRegistry();

  constructor(storage: StorageAdapter) {
    this.store = new StorageHost(storage);
  }

  /** Serves one worker on `port`. */
  attach(port: IpcPort): void {
    const brokerCalls = this.broker.attach(port);
    const storeCalls = this.store.attach(port);
    serveRpc(port, (method) => {
      if (Object.hasOwn(brokerCalls, method)) return brokerCalls[method];
      const store = storeCalls(method);
      if (store) return store;
      const [part, name] = method.split('.');
      const target = part === 'presence' ? this.presence : part === 'registry' ? this.registry : undefined;
      if (!target || !name || !(name in target) || name === 'close') return undefined;
      const fn = (target as unknown as Record<string, unknown>)[name];
      return typeof fn === 'function' ? (fn as (...a: never[]) => unknown).bind(target) : undefined;
    });
  }
}

/** What a worker builds its server from: each part reaches the primary through `port`. */
export interface WorkerParts {
  storage: StorageAdapter;
  broker: Broker;
  presence: PresenceStore;
  registry: NodeRegistry;
}

/** Connects a worker's parts to the primary's {@link MulticoreHub}; they share one RPC client (one id space). */
export async function connectWorkerParts(port: IpcPort): Promise<WorkerParts> {
  const rpc = new RpcClient(port);
  return {
    storage: await connectIpcStorage(rpc),
    broker: createIpcBroker(port, rpc),
    presence: closable<PresenceStore>(rpc, 'presence', ['touch', 'drop', 'expire', 'setStatus', 'get']),
    registry: closable<NodeRegistry>(rpc, 'registry', ['heartbeat', 'deregister', 'list']),
  };
}

/**
 * The worker's face of a part the primary keeps: the named methods are calls; `close` ends only this
 * worker's use (the primary's part outlives it), and calls after it reject with BROKER_CLOSED.
 */
function closable<T extends object>(
  rpc: RpcClient,
  prefix: string,
  methods: readonly string[],
): T & { close(): Promise<void> } {
  const remote = remoteObject<Record<string, (...args: unknown[]) => Promise<unknown>>>(rpc, prefix);
  let closed = false;
  const face: Record<string, unknown> = {
    close: async () => {
      closed = true;
    },
  };
  for (const name of methods) {
    face[name] = (...args: unknown[]) =>
      closed
        ? Promise.reject(new BrokerError(BrokerErrorCode.CLOSED, `${prefix}.${name} after close`))
        : remote[name]!(...args);
  }
  return face as T & { close(): Promise<void> };
}
