import { type NodeInfo, type NodeRegistry, parseNodeInfo } from '@natter/server-core';
import zookeeper from 'node-zookeeper-client';

/** Options of {@link ZooKeeperNodeRegistry}. */
export interface ZooKeeperNodeRegistryOptions {
  /**
   * ZooKeeper connection string, `host:port[,host:port...][/chroot]`.
   * @default '127.0.0.1:2181'
   */
  connectionString?: string;
  /**
   * Parent znode of the node entries. Give each cluster its own.
   * @default '/natter/nodes'
   */
  basePath?: string;
  /**
   * ZooKeeper session timeout, ms: how long after a node crashes (or is cut off) its entry disappears.
   * The server clamps it to [2, 20] × its tickTime (4 s to 40 s with the default tickTime of 2 s). This,
   * not the `ttlMs` passed to `heartbeat`, bounds a dead node's lifetime in the registry.
   * @default 6000
   */
  sessionTimeoutMs?: number;
  /** How long an operation may wait for a connection and an answer before it rejects, ms. @default 5000 */
  timeoutMs?: number;
  /** Called with connection state changes and unreadable entries, for logs and metrics. */
  onError?: (error: Error) => void;
}

type ZkClient = zookeeper.Client;

/**
 * natter's {@link NodeRegistry} on ZooKeeper: each chat node owns an ephemeral znode under `basePath` with
 * its {@link NodeInfo} as JSON. Liveness follows the ZooKeeper session rather than a per-entry TTL: a node
 * that closes removes its entry at once, one that crashes loses it when its session expires
 * (`sessionTimeoutMs`). `heartbeat` creates the znode or updates its load; an expired session is replaced
 * by a new one on the next call.
 */
export class ZooKeeperNodeRegistry implements NodeRegistry {
  private client: ZkClient | undefined;
  private connected: Promise<ZkClient> | undefined;
  private closed = false;
  private readonly connectionString: string;
  private readonly basePath: string;
  private readonly sessionTimeoutMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: ZooKeeperNodeRegistryOptions = {}) {
    this.connectionString = options.connectionString ?? '127.0.0.1:2181';
    this.basePath = (options.basePath ?? '/natter/nodes').replace(/\/+$/, '');
    if (!this.basePath.startsWith('/')) throw new TypeError('basePath must start with "/"');
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 6_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** Resolves once a session is established. */
  async ready(): Promise<void> {
    await this.session();
  }

  async heartbeat(node: NodeInfo, _ttlMs: number): Promise<void> {
    const client = await this.session();
    const path = this.pathOf(node.id);
    const data = Buffer.from(
      JSON.stringify({
        id: node.id,
        wsUrl: node.wsUrl,
        region: node.region,
        capacity: node.capacity,
        load: node.load,
      }),
    );
    await this.op<string>((cb) => client.mkdirp(this.basePath, cb)).catch(
      ignore(zookeeper.Exception.NODE_EXISTS),
    );
    const stat = await this.op<zookeeper.Stat | null>((cb) => client.exists(path, cb));
    if (stat && Buffer.compare(stat.ephemeralOwner, client.getSessionId()) === 0) {
      await this.op<zookeeper.Stat>((cb) => client.setData(path, data, -1, cb));
      return;
    }
    // An entry of an earlier session of this node id (a quick restart) would vanish with that session.
    if (stat)
      await this.op<void>((cb) => client.remove(path, -1, cb)).catch(ignore(zookeeper.Exception.NO_NODE));
    await this.op<string>((cb) => client.create(path, data, zookeeper.CreateMode.EPHEMERAL, cb)).catch(
      async (err: unknown) => {
        // A concurrent heartbeat of this node created it first: update it instead.
        if (codeOf(err) !== zookeeper.Exception.NODE_EXISTS) throw err;
        await this.op<zookeeper.Stat>((cb) => client.setData(path, data, -1, cb));
      },
    );
  }

  async deregister(nodeId: string): Promise<void> {
    const client = await this.session();
    await this.op<void>((cb) => client.remove(this.pathOf(nodeId), -1, cb)).catch(
      ignore(zookeeper.Exception.NO_NODE),
    );
  }

  async list(): Promise<NodeInfo[]> {
    const client = await this.session();
    const children = await this.op<string[]>((cb) => client.getChildren(this.basePath, cb)).catch(
      (err: unknown) => {
        if (codeOf(err) === zookeeper.Exception.NO_NODE) return [] as string[];
        throw err;
      },
    );
    const values = await Promise.all(
      children.map((child) =>
        this.op<Buffer | undefined>((cb) => client.getData(`${this.basePath}/${child}`, cb)).catch(
          (err: unknown) => {
            // Deleted between getChildren and getData: the node just left.
            if (codeOf(err) === zookeeper.Exception.NO_NODE) return undefined;
            throw err;
          },
        ),
      ),
    );
    const nodes: NodeInfo[] = [];
    for (const value of values) {
      if (value === undefined) continue;
      const node = parseNodeInfo(value.toString('utf8'));
      if (node) nodes.push(node);
      else this.options.onError?.(new Error('unreadable zookeeper registry entry skipped'));
    }
    return nodes;
  }

  /** Closes the session; ZooKeeper deletes this node's ephemeral entries at once. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    this.connected = undefined;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.timeoutMs);
      client.once('disconnected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.close();
    });
  }

  private pathOf(nodeId: string): string {
    if (!/^[A-Za-z0-9_.:-]+$/.test(nodeId) || nodeId === '.' || nodeId === '..') {
      throw new TypeError(`node id not usable as a znode name: ${JSON.stringify(nodeId)}`);
    }
    return `${this.basePath}/${nodeId}`;
  }

  /** The connected client; a new session when there is none or the last one expired. */
  private session(): Promise<ZkClient> {
    if (this.closed) return Promise.reject(new Error('the zookeeper registry is closed'));
    this.connected ??= this.connect();
    return this.connected;
  }

  private connect(): Promise<ZkClient> {
    const client = zookeeper.createClient(this.connectionString, {
      sessionTimeout: this.sessionTimeoutMs,
      spinDelay: 500,
      retries: 1,
    });
    this.client = client;
    const forget = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.connected = undefined;
    };
    client.on('state', (state: zookeeper.State) => {
      if (this.closed) return;
      if (state === zookeeper.State.EXPIRED) {
        // Our ephemeral entries are gone; the next call opens a new session and re-creates them.
        this.options.onError?.(new Error('zookeeper session expired'));
        forget();
        client.close();
      } else if (state === zookeeper.State.DISCONNECTED) {
        this.options.onError?.(new Error('zookeeper disconnected; reconnecting within the session'));
      }
    });
    return new Promise<ZkClient>((resolve, reject) => {
      const timer = setTimeout(() => {
        forget();
        client.close();
        reject(new Error(`zookeeper at ${this.connectionString} not reachable within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve(client);
      });
      client.connect();
    });
  }

  /** Runs one callback-style operation, bounded by `timeoutMs`. */
  private op<T>(start: (callback: (error: Error | zookeeper.Exception | null, value: T) => void) => void) {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`zookeeper operation timed out after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      start((error, value) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(value);
      });
    });
  }
}

function codeOf(err: unknown): number | undefined {
  const getCode = (err as { getCode?: () => number } | null)?.getCode;
  return typeof getCode === 'function' ? getCode.call(err) : undefined;
}

/** A rejection handler that swallows exactly one ZooKeeper error code. */
const ignore =
  (code: number) =>
  (err: unknown): undefined => {
    if (codeOf(err) === code) return undefined;
    throw err;
  };

/** Creates a {@link ZooKeeperNodeRegistry}; it connects on first use. */
export function createZooKeeperNodeRegistry(
  options: ZooKeeperNodeRegistryOptions = {},
): ZooKeeperNodeRegistry {
  return new ZooKeeperNodeRegistry(options);
}
