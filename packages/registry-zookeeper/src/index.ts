/**
 * ZooKeeper service discovery for natter: {@link ZooKeeperNodeRegistry}, a `NodeRegistry` on ephemeral
 * znodes (node-zookeeper-client, pure JavaScript).
 * @packageDocumentation
 */
export {
  createZooKeeperNodeRegistry,
  ZooKeeperNodeRegistry,
  type ZooKeeperNodeRegistryOptions,
} from './zookeeper-node-registry.js';
