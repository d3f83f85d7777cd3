import type { SynchronousCommit } from '@natter/storage-postgres';

/** Options of {@link createShardedPostgresStorage}. */
export interface ShardedPostgresStorageOptions {
  /**
   * One libpq connection URL per PostgreSQL server, e.g. `postgres://natter@pg-0.internal/natter`. The
   * order is the servers' identity: server `i` of the shard map is `shards[i]`, on every node.
   */
  shards: readonly string[];
  /**
   * How many virtual shards ids hash to (FNV-1a of the id, modulo this). Fixed for the life of the
   * data: servers are added by moving virtual shards, never by changing this number.
   * @default 256
   */
  virtualShards?: number;
  /**
   * The server of each virtual shard (`map[v]` is an index into `shards`). Defaults to `v mod
   * shards.length`. Stored on every server at the first open and compared at every open after.
   */
  map?: readonly number[];
  /**
   * The PostgreSQL schema holding natter's tables on every server; created when missing.
   * @default 'natter'
   */
  schema?: string;
  /**
   * Most connections per server for the per-server PostgreSQL adapter (reads and group commits); the
   * fan-out's own pool per server has at most 4 more.
   * @default 8
   */
  maxPoolSize?: number;
  /** `synchronous_commit` of the writes (see `@natter/storage-postgres`). */
  synchronousCommit?: SynchronousCommit;
  /**
   * How often the fan-out worker looks for outbox rows no write of this process is draining (rows
   * left by a process that crashed between its commit and its fan-out, or for a server that was
   * down), in milliseconds. Backs off up to `maxBackoffMs` while a server is unreachable.
   * @default 500
   */
  fanoutPollMs?: number;
  /** @default 10000 */
  maxBackoffMs?: number;
}

/** {@link ShardedPostgresStorageOptions} with every default applied. */
export interface ResolvedShardedOptions {
  shards: readonly string[];
  virtualShards: number;
  map: readonly number[];
  schema: string;
  maxPoolSize: number;
  synchronousCommit: SynchronousCommit | undefined;
  fanoutPollMs: number;
  maxBackoffMs: number;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const fail = (what: string) => {
  throw new TypeError(`createShardedPostgresStorage: ${what}`);
};
const positiveInteger = (value: number, name: string) => {
  if (!Number.isInteger(value) || value < 1) fail(`\`${name}\` must be a positive integer`);
};

/** Applies the defaults and validates the values. */
export function resolveShardedOptions(options: ShardedPostgresStorageOptions): ResolvedShardedOptions {
  const { shards } = options;
  if (!Array.isArray(shards) || shards.length === 0 || !shards.every((s) => typeof s === 'string' && s)) {
    fail('`shards` must be a non-empty array of connection URLs');
  }
  if (new Set(shards).size !== shards.length) fail('`shards` lists a server twice');
  const virtualShards = options.virtualShards ?? 256;
  positiveInteger(virtualShards, 'virtualShards');
  if (virtualShards < shards.length) fail('`virtualShards` must be at least the number of servers');
  const map = options.map ?? Array.from({ length: virtualShards }, (_, v) => v % shards.length);
  if (
    map.length !== virtualShards ||
    !map.every((server) => Number.isInteger(server) && server >= 0 && server < shards.length)
  ) {
    fail('`map` must give a server index (0 to shards.length - 1) for each virtual shard');
  }
  const schema = options.schema ?? 'natter';
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    fail('`schema` must be letters, digits and _ (not starting with a digit, at most 63)');
  }
  const maxPoolSize = options.maxPoolSize ?? 8;
  positiveInteger(maxPoolSize, 'maxPoolSize');
  const fanoutPollMs = options.fanoutPollMs ?? 500;
  positiveInteger(fanoutPollMs, 'fanoutPollMs');
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  positiveInteger(maxBackoffMs, 'maxBackoffMs');
  return {
    shards: [...shards],
    virtualShards,
    map: [...map],
    schema,
    maxPoolSize,
    synchronousCommit: options.synchronousCommit,
    fanoutPollMs,
    maxBackoffMs,
  };
}
