/**
 * One process of the cluster example: `NATTER_ROLE=api` serves the HTTP API and discovery; `NATTER_ROLE=chat`
 * (with `NATTER_PORT`) is a chat node that registers itself for discovery. Both share the store, the broker
 * and the presence store; main.ts starts one API node and three chat nodes.
 */
import { createNatsBroker } from '@natter/broker-nats';
import { createRedisBroker, createRedisNodeRegistry, createRedisPresenceStore } from '@natter/broker-redis';
import {
  createLogger,
  createNatterServer,
  type NodeRegistry,
  type StorageAdapter,
} from '@natter/server-core';
import { createPostgresStorage } from '@natter/storage-postgres';
import { createSqliteStorage } from '@natter/storage-sqlite';
import { readConfig } from './config.js';

const config = readConfig();
const role = process.env.NATTER_ROLE === 'api' ? 'api' : 'chat';
const port = Number(process.env.NATTER_PORT ?? (role === 'api' ? config.apiPort : config.chatPorts[0]));
const secret = process.env.NATTER_TOKEN_SECRET;
const logger = createLogger({
  name: `natter-${role}-${port}`,
  level: process.env.NATTER_LOG_LEVEL ?? 'info',
});

function storage(): StorageAdapter {
  return config.store === 'postgres'
    ? createPostgresStorage({ connectionString: config.pgUrl, schema: config.pgSchema })
    : createSqliteStorage({ path: config.sqlitePath });
}

async function main(): Promise<void> {
  if (!secret || secret.length < 32) throw new Error('NATTER_TOKEN_SECRET (32+ characters) is required');
  const broker =
    config.broker === 'redis'
      ? createRedisBroker({ url: config.redisUrl, channelPrefix: `${config.prefix}.` })
      : createNatsBroker({ servers: config.natsUrl, subjectPrefix: `${config.prefix}.` });
  broker.onError((err) => logger.warn({ code: (err as { code?: string }).code, err: err.message }, 'broker'));
  const presence = createRedisPresenceStore({
    url: config.redisUrl,
    keyPrefix: `${config.prefix}:presence:`,
  });
  const nodes = createRedisNodeRegistry({ url: config.redisUrl, keyPrefix: `${config.prefix}:nodes:` });
  // The API node reads the registry for discovery but never announces itself: clients chat on chat nodes.
  const registry: NodeRegistry =
    role === 'api'
      ? {
          heartbeat: async () => {},
          deregister: async () => {},
          list: () => nodes.list(),
          close: () => nodes.close(),
        }
      : nodes;
  await broker.ready(10_000);

  const server = createNatterServer({
    storage: storage(),
    tokens: { secret },
    logger,
    region: config.region,
    ...(role === 'chat' ? { publicWsUrl: `ws://${config.publicHost}:${port}/v1/ws` } : {}),
    presence: { store: presence, graceMs: config.presenceGraceMs },
    cluster: { broker, registry, nodeId: `${role}-${port}` },
  });
  const { url } = await server.listen(port, config.host);
  logger.info({ url, role, store: config.store, broker: config.broker }, 'listening');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Chat nodes drain: deregister, then move their clients to the other nodes over the drain window.
    if (role === 'chat') await server.drain();
    await server.close();
    await Promise.allSettled([broker.close(), presence.close(), registry.close()]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  logger.error({ err }, 'failed to start');
  process.exit(1);
});
