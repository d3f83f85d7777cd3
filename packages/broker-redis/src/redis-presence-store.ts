import type { ChosenStatus, ExpiredUser, PresenceRecord, PresenceStore } from '@natter/server-core';
import type { Redis } from 'ioredis';
import { closeRedis, openRedis, type RedisConnectionOptions, whenReady } from './connection.js';
import { BrokerError, BrokerErrorCode } from './errors.js';
import { DROP, EXPIRE, TOUCH } from './presence-scripts.js';

/** Options of {@link RedisPresenceStore}. */
export interface RedisPresenceStoreOptions extends RedisConnectionOptions {
  /** A client to share (e.g. with the application); the store then does not close it. */
  redis?: Redis;
  /**
   * Prefix of every key. Give each cluster (and each test) its own.
   * @default 'natter:presence:'
   */
  keyPrefix?: string;
  /**
   * Users are spread over this many buckets, each with its own expiry index under its own hash tag, so on
   * a Redis Cluster the presence load spreads over shards. Changing it orphans existing entries (they
   * expire by their safety TTL).
   * @default 1
   */
  buckets?: number;
  /**
   * Safety TTL of device entries and the expiry index, as a multiple of the grace period: if no node
   * sweeps at all (the whole cluster is down), the keys still disappear.
   * @default 4
   */
  deviceTtlGraces?: number;
  /**
   * How long a user's chosen status and `last_active_at` are kept after their last heartbeat, ms.
   * @default 2592000000 (30 days)
   */
  recordTtlMs?: number;
  /** Users claimed per expire script call; `expire` loops until a batch comes back short. @default 500 */
  expireBatch?: number;
}

const STATUSES: readonly ChosenStatus[] = ['online', 'away', 'invisible'];
const MAX_EXPIRE_ROUNDS = 1_000;
const TOUCH_CHUNK = 1_000;

/**
 * natter's {@link PresenceStore} on Redis, shared by every chat node. Per user, a sorted set of
 * deviceKey -> newest heartbeat; per bucket, a sorted set of userId -> newest heartbeat, which `expire`
 * scans. `touch`, `drop` and `expire` are Lua scripts, so "came online" and "went offline" are each
 * reported by exactly one node. A crashed node stops touching its users' devices; another node's sweep
 * then expires them after the grace period.
 *
 * Needs Redis 6.2 or newer (`ZADD GT`).
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly buckets: number;
  private readonly deviceTtlGraces: number;
  private readonly recordTtlMs: number;
  private readonly expireBatch: number;
  private closed = false;

  constructor(options: RedisPresenceStoreOptions = {}) {
    this.owned = options.redis === undefined;
    this.redis = options.redis ?? openRedis(options, 'presence');
    // Without a listener ioredis prints connection errors; callers see them as rejected calls instead.
    if (this.owned) this.redis.on('error', () => undefined);
    this.prefix = options.keyPrefix ?? 'natter:presence:';
    this.buckets = Math.max(1, Math.floor(options.buckets ?? 1));
    this.deviceTtlGraces = options.deviceTtlGraces ?? 4;
    this.recordTtlMs = options.recordTtlMs ?? 30 * 24 * 3600 * 1000;
    this.expireBatch = options.expireBatch ?? 500;
    this.redis.defineCommand('natterPresenceTouch', { lua: TOUCH });
    this.redis.defineCommand('natterPresenceDrop', { numberOfKeys: 2, lua: DROP });
    this.redis.defineCommand('natterPresenceExpire', { numberOfKeys: 1, lua: EXPIRE });
  }

  /** Resolves once connected; rejects after `timeoutMs`. */
  ready(timeoutMs = 5_000): Promise<void> {
    return whenReady(this.redis, timeoutMs);
  }

  async touch(
    beats: ReadonlyArray<{ userId: string; deviceKey: string; at: number }>,
    graceMs: number,
  ): Promise<string[]> {
    this.check();
    const deviceTtl = Math.max(1_000, Math.ceil(graceMs * this.deviceTtlGraces));
    const byBucket = new Map<number, Array<{ userId: string; deviceKey: string; at: number }>>();
    for (const beat of beats) {
      const b = this.bucketOf(beat.userId);
      const group = byBucket.get(b);
      if (group) group.push(beat);
      else byBucket.set(b, [beat]);
    }
    const cameOnline: string[] = [];
    for (const [b, all] of byBucket) {
      // Bounded script calls: a node with many connections must not block Redis in one long script.
      for (let from = 0; from < all.length; from += TOUCH_CHUNK) {
        cameOnline.push(...(await this.touchBucket(b, all.slice(from, from + TOUCH_CHUNK), deviceTtl)));
      }
    }
    return cameOnline;
  }

  private async touchBucket(
    b: number,
    group: ReadonlyArray<{ userId: string; deviceKey: string; at: number }>,
    deviceTtl: number,
  ): Promise<string[]> {
    const keys = [this.usersKey(b)];
    const args: Array<string | number> = [deviceTtl, this.recordTtlMs];
    for (const { userId, deviceKey, at } of group) {
      keys.push(this.devKey(b, userId), this.statusKey(b, userId));
      args.push(userId, deviceKey, Math.floor(at));
    }
    return (await this.call('natterPresenceTouch', keys.length, ...keys, ...args)) as string[];
  }

  async drop(userId: string, deviceKey: string): Promise<void> {
    this.check();
    const b = this.bucketOf(userId);
    await this.call('natterPresenceDrop', this.usersKey(b), this.devKey(b, userId), userId, deviceKey);
  }

  async expire(before: number): Promise<ExpiredUser[]> {
    this.check();
    const expired: ExpiredUser[] = [];
    for (let b = 0; b < this.buckets; b++) {
      for (let round = 0; round < MAX_EXPIRE_ROUNDS; round++) {
        const flat = (await this.call(
          'natterPresenceExpire',
          this.usersKey(b),
          Math.floor(before),
          this.bucketPrefix(b),
          this.expireBatch,
        )) as string[];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          expired.push({ userId: flat[i]!, lastActiveAt: Number(flat[i + 1]) });
        }
        // A short batch means no candidate is left; a full one may have more behind it.
        if (flat.length / 2 < this.expireBatch) break;
      }
    }
    return expired;
  }

  async setStatus(userId: string, status: ChosenStatus): Promise<void> {
    this.check();
    const key = this.statusKey(this.bucketOf(userId), userId);
    await this.redis.multi().hset(key, 's', status).pexpire(key, this.recordTtlMs).exec();
  }

  async get(userIds: readonly string[]): Promise<PresenceRecord[]> {
    this.check();
    if (userIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) {
      const b = this.bucketOf(userId);
      pipeline.zrange(this.devKey(b, userId), '-1', '-1', 'WITHSCORES');
      pipeline.hmget(this.statusKey(b, userId), 's', 'l');
    }
    const results = (await pipeline.exec()) ?? [];
    return userIds.map((userId, i) => {
      const [devErr, newest] = results[2 * i] ?? [];
      const [stErr, fields] = results[2 * i + 1] ?? [];
      if (devErr || stErr) throw devErr ?? stErr;
      const top = newest as string[];
      const [status, last] = fields as Array<string | null>;
      return {
        userId,
        liveSince: top.length >= 2 ? Number(top[1]) : null,
        status: STATUSES.includes(status as ChosenStatus) ? (status as ChosenStatus) : 'online',
        lastActiveAt: last == null ? null : Number(last),
      };
    });
  }

  /** Closes the connection the store opened (a shared client is left open). Idempotent. */
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
    if (this.closed) throw new BrokerError(BrokerErrorCode.CLOSED, 'the redis presence store is closed');
  }

  /** FNV-1a of the user id, so every node maps a user to the same bucket. */
  private bucketOf(userId: string): number {
    if (this.buckets === 1) return 0;
    let hash = 0x811c9dc5;
    for (let i = 0; i < userId.length; i++) {
      hash ^= userId.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0) % this.buckets;
  }

  private bucketPrefix(b: number): string {
    return `${this.prefix}{${b}}:`;
  }
  private usersKey(b: number): string {
    return `${this.bucketPrefix(b)}users`;
  }
  private devKey(b: number, userId: string): string {
    return `${this.bucketPrefix(b)}dev:${userId}`;
  }
  private statusKey(b: number, userId: string): string {
    return `${this.bucketPrefix(b)}st:${userId}`;
  }
}

/** Creates a {@link RedisPresenceStore}. */
export function createRedisPresenceStore(options: RedisPresenceStoreOptions = {}): RedisPresenceStore {
  return new RedisPresenceStore(options);
}
