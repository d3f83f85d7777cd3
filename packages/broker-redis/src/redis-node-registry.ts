import { type NodeInfo, type NodeRegistry, parseNodeInfo } from '@natter/server-core';
import type { Redis } from 'ioredis';
import { closeRedis, openRedis, type RedisConnectionOptions, whenReady } from './connection.js';
import { BrokerError, BrokerErrorCode } from './errors.js';

/** Options of {@link RedisNodeRegistry}. */
export interface RedisNodeRegistryOptions extends RedisConnectionOptions {
  /** A client to share; the registry then does not close it. */
  redis?: Redis;
  /**
   * Prefix of the registry's keys. Give each cluster its own.
   * @default 'natter:nodes:'
   */
  keyPrefix?: string;
  /** Called with entries that cannot be read (skipped from `list`), for logs and metrics. */
  onBadEntry?: (error: Error) => void;
}

/**
 * Registers or renews a node. KEYS: the node's key, the index. ARGV: id, json, ttlMs. The index scores are
 * expiry times on the Redis clock, so nodes with skewed clocks agree on who is alive.
 */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
-- The index itself expires with its longest-lived entry, so an abandoned cluster leaves nothing behind.
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if #last > 0 then redis.call('PEXPIREAT', KEYS[2], math.floor(tonumber(last[2]))) end
return 0
`;

/** Live entries. KEYS: the index. ARGV: the prefix of node keys. */
const LIST = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
local out = {}
for _, id in ipairs(ids) do
  local value = redis.call('GET', ARGV[1] .. id)
  if value then out[#out + 1] = value end
end
return out
`;

/**
 * natter's {@link NodeRegistry} on Redis: one key per node holding its {@link NodeInfo} as JSON with a PX
 * TTL, plus a sorted set indexing node ids by expiry time. `list()` returns entries whose key still exists
 * and whose index entry has not expired, so a crashed node drops out within its TTL.
 */
export class RedisNodeRegistry implements NodeRegistry {
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly onBadEntry: ((error: Error) => void) | undefined;
  private closed = false;

  constructor(options: RedisNodeRegistryOptions = {}) {
    this.owned = options.redis === undefined;
    this.redis = options.redis ?? openRedis(options, 'registry');
    if (this.owned) this.redis.on('error', () => undefined);
    this.prefix = options.keyPrefix ?? 'natter:nodes:';
    this.onBadEntry = options.onBadEntry;
    this.redis.defineCommand('natterRegistryHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
    this.redis.defineCommand('natterRegistryList', { numberOfKeys: 1, lua: LIST });
  }

  /** Resolves once connected; rejects after `timeoutMs`. */
  ready(timeoutMs = 5_000): Promise<void> {
    return whenReady(this.redis, timeoutMs);
  }

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    this.check();
    const info: NodeInfo = {
      id: node.id,
      wsUrl: node.wsUrl,
      region: node.region,
      capacity: node.capacity,
      load: node.load,
    };
    await this.call(
      'natterRegistryHeartbeat',
      this.nodeKey(node.id),
      this.indexKey(),
      node.id,
      JSON.stringify(info),
      Math.max(1, Math.ceil(ttlMs)),
    );
  }

  async deregister(nodeId: string): Promise<void> {
    this.check();
    await this.redis.multi().del(this.nodeKey(nodeId)).zrem(this.indexKey(), nodeId).exec();
  }

  async list(): Promise<NodeInfo[]> {
    this.check();
    const values = (await this.call('natterRegistryList', this.indexKey(), this.nodeKey(''))) as string[];
    const nodes: NodeInfo[] = [];
    for (const value of values) {
      const node = parseNodeInfo(value);
      if (node) nodes.push(node);
      else this.onBadEntry?.(new BrokerError(BrokerErrorCode.BAD_DATA, 'unreadable registry entry skipped'));
    }
    return nodes;
  }

  /** Closes the connection the registry opened (a shared client is left open). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await closeRedis(this.redis);
  }

  private call(command: string, ...args: Array<string | number>): Promise<unknown> {
    const fn = (this.redis as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>)[
      command
    ]!;
    return fn.apply(this.redis, args);
  }

  private check(): void {
    if (this.closed) throw new BrokerError(BrokerErrorCode.CLOSED, 'the redis node registry is closed');
  }

  private indexKey(): string {
    return `${this.prefix}{index}`;
  }
  private nodeKey(id: string): string {
    return `${this.prefix}{index}:${id}`;
  }
}

/** Creates a {@link RedisNodeRegistry}. */
export function createRedisNodeRegistry(options: RedisNodeRegistryOptions = {}): RedisNodeRegistry {
  return new RedisNodeRegistry(options);
}
