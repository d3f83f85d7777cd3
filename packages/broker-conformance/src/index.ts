/**
 * The conformance suites of natter's scale-out ports, as vitest tests: `Broker` (publish/subscribe between
 * chat nodes), `PresenceStore` (shared presence with expiry) and `NodeRegistry` (service discovery). Every
 * adapter runs the same checks by passing a factory, as storage adapters run `@natter/storage-conformance`.
 * @packageDocumentation
 */
export { type BrokerCheckName, brokerChecks } from './checks/broker.js';
export { type PresenceCheckName, presenceChecks } from './checks/presence.js';
export { type RegistryCheckName, registryChecks } from './checks/registry.js';
export {
  type BrokerCheck,
  type BrokerCheckContext,
  type BrokerConformanceOptions,
  type Check,
  type ClosablePresenceStore,
  defineCheck,
  type PresenceCheck,
  type PresenceCheckContext,
  type PresenceConformanceOptions,
  type PresenceHarness,
  type RegistryCheck,
  type RegistryCheckContext,
  type RegistryConformanceOptions,
  type RegistryHarness,
} from './harness.js';
export { runBrokerCheck, runPresenceCheck, runRegistryCheck, uniqueToken } from './run.js';
export { acquireServiceLock, type ServiceLockOptions } from './service-lock.js';
export { runBrokerConformance, runPresenceStoreConformance, runRegistryConformance } from './suite.js';
export { sleep, until, within } from './wait.js';
