/** Configuration of the cluster example, from environment variables (see README.md). */
export interface ClusterConfig {
  host: string;
  apiPort: number;
  chatPorts: number[];
  broker: 'redis' | 'nats';
  redisUrl: string;
  natsUrl: string;
  store: 'postgres' | 'sqlite';
  pgUrl: string;
  pgSchema: string;
  sqlitePath: string;
  /** Host the chat nodes announce to clients (discovery); defaults to `host`. */
  publicHost: string;
  /** Key and topic prefix, so several clusters can share one Redis or NATS. */
  prefix: string;
  region: string;
  presenceGraceMs: number;
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const raw = process.env[name] ?? fallback;
  if (!allowed.includes(raw as T))
    throw new RangeError(`${name} must be one of ${allowed.join(', ')}, got ${raw}`);
  return raw as T;
}

export function readConfig(): ClusterConfig {
  const host = process.env.NATTER_HOST ?? '127.0.0.1';
  const chatPorts = (process.env.NATTER_CHAT_PORTS ?? '8081,8082,8083').split(',').map((p) => {
    const port = Number(p.trim());
    if (!Number.isInteger(port) || port <= 0 || port > 65535)
      throw new RangeError(`bad port in NATTER_CHAT_PORTS: ${p}`);
    return port;
  });
  return {
    host,
    apiPort: int('NATTER_API_PORT', 8080),
    chatPorts,
    broker: oneOf('NATTER_BROKER', ['redis', 'nats'] as const, 'redis'),
    redisUrl: process.env.NATTER_REDIS_URL ?? 'redis://127.0.0.1:6379',
    natsUrl: process.env.NATTER_NATS_URL ?? 'nats://127.0.0.1:4222',
    store: oneOf('NATTER_STORE', ['postgres', 'sqlite'] as const, 'postgres'),
    pgUrl: process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    pgSchema: process.env.NATTER_PG_SCHEMA ?? 'natter_cluster',
    sqlitePath: process.env.NATTER_SQLITE_PATH ?? './data/cluster.db',
    publicHost: process.env.NATTER_PUBLIC_HOST ?? host,
    prefix: process.env.NATTER_PREFIX ?? 'natter-example',
    region: process.env.NATTER_REGION ?? 'local',
    presenceGraceMs: int('NATTER_PRESENCE_GRACE_MS', 30_000),
  };
}
