import { connect } from 'node:net';

/** Where the services of the cluster tests are; each can be pointed elsewhere with its variable. */
export const REDIS_URL = process.env.NATTER_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const NATS_URL = process.env.NATTER_NATS_URL ?? 'nats://127.0.0.1:4222';
export const PG_URL = process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The separate PostgreSQL servers of the sharded store (`.ci/services.sh` starts three on 5433-5435). */
export const PG_SHARD_URLS = (
  process.env.NATTER_PG_SHARD_URLS ??
  [5433, 5434, 5435].map((port) => `postgres://postgres@127.0.0.1:${port}/test`).join(',')
)
  .split(',')
  .map((url) => url.trim())
  .filter((url) => url.length > 0);
/** The PostgreSQL server the failure tests kill -9 and restart (`.ci/services.sh` keeps `killable` on 5436). */
export const PG_KILLABLE_URL =
  process.env.NATTER_PG_KILLABLE_URL ?? 'postgres://postgres@127.0.0.1:5436/test';
export const ZOOKEEPER_URL = process.env.NATTER_ZOOKEEPER_URL ?? '127.0.0.1:2181';

export type Service = 'redis' | 'nats' | 'pg' | 'pgShards' | 'pgKillable' | 'zookeeper';

const SERVICES: Record<Service, { url: string; env: string; name: string }> = {
  redis: { url: REDIS_URL, env: 'NATTER_REDIS_URL', name: 'Redis' },
  nats: { url: NATS_URL, env: 'NATTER_NATS_URL', name: 'NATS' },
  pg: { url: PG_URL, env: 'NATTER_PG_URL', name: 'PostgreSQL' },
  pgShards: {
    url: PG_SHARD_URLS.join(','),
    env: 'NATTER_PG_SHARD_URLS',
    name: 'the PostgreSQL shard servers',
  },
  pgKillable: {
    url: PG_KILLABLE_URL,
    env: 'NATTER_PG_KILLABLE_URL',
    name: 'the PostgreSQL server reserved for kill -9 tests',
  },
  zookeeper: { url: `tcp://${ZOOKEEPER_URL.split(',')[0]}`, env: 'NATTER_ZOOKEEPER_URL', name: 'ZooKeeper' },
};

const DEFAULT_PORTS: Record<string, number> = { redis: 6379, nats: 4222, postgres: 5432, tcp: 0 };

/** Whether something accepts TCP connections at the URL's host and port (1 s budget). */
export function reachable(url: string): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port) || DEFAULT_PORTS[parsed.protocol.replace(':', '')] || 0;
  return new Promise((resolve) => {
    const socket = connect({ host: parsed.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * True when every service answers. Otherwise, outside CI, warns loudly (naming the variable that points
 * the tests at a server) and answers false so the caller skips; with `CI=true` it answers true, so the
 * tests run and fail instead of silently skipping.
 */
export async function servicesUp(what: string, needed: readonly Service[]): Promise<boolean> {
  const down: Service[] = [];
  for (const s of needed) {
    const urls = s === 'pgShards' ? PG_SHARD_URLS : [SERVICES[s].url];
    if (!(await Promise.all(urls.map(reachable))).every(Boolean)) down.push(s);
  }
  if (down.length === 0 || process.env.CI === 'true') return true;
  for (const s of down) {
    const { url, env, name } = SERVICES[s];
    console.warn(
      `\n!!! SKIPPING ${what}: ${name} is not reachable at ${url}. Run \`bash .ci/services.sh\` or set ${env}; with CI=true this never skips.\n`,
    );
  }
  return false;
}
