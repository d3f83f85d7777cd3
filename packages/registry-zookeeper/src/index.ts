/**
 * ZooKeeper service discovery for natter: {@link ZooKeeperNodeRegistry}, a `NodeRegistry` on ephemeral
 * znodes (node-zookeeper-client, pure JavaScript).
 * @packageDocumentation
 */
export {
  createZooKeeperNodeRegistry,
  parseNodeInfo,
  ZooKeeperNodeRegistry,
  type ZooKeeperNodeRegistryOptions,
} from './zookeeper-node-registry.js';
