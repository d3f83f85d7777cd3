/**
 * Redis adapters for scaling natter out: {@link RedisBroker} (pub/sub between chat nodes),
 * {@link RedisPresenceStore} (presence shared by all nodes, expiring a crashed node's users) and
 * {@link RedisNodeRegistry} (service discovery), on ioredis.
 * @packageDocumentation
 */
export type { RedisConnectionOptions } from './connection.js';
export { BrokerError, BrokerErrorCode, isBrokerError } from './errors.js';
export { createRedisBroker, RedisBroker, type RedisBrokerOptions } from './redis-broker.js';
export {
  createRedisNodeRegistry,
  RedisNodeRegistry,
  type RedisNodeRegistryOptions,
} from './redis-node-registry.js';
export {
  createRedisPresenceStore,
  RedisPresenceStore,
  type RedisPresenceStoreOptions,
} from './redis-presence-store.js';
