import { MemoryPresenceStore } from '@natter/server-core';
import { describe, expect, it } from 'vitest';
import {
  type BrokerCheck,
  type BrokerConformanceOptions,
  brokerChecks,
  runBrokerCheck,
  runBrokerConformance,
  runPresenceStoreConformance,
  runRegistryConformance,
} from '../src/index.js';
import { type Breakage, MemoryBroker, MemoryBus, MemoryRegistry } from './memory-adapters.js';

const options = (broken: Breakage = {}): BrokerConformanceOptions => {
  const bus = new MemoryBus();
  return {
    name: 'memory',
    factory: async () => new MemoryBroker(bus, broken),
    unreachable: () => new MemoryBroker(undefined, broken),
    errorWithinMs: 500,
    quietMs: 60,
    deliveryWithinMs: 500,
  };
};

runBrokerConformance(options());

runPresenceStoreConformance({
  name: 'memory',
  factory: async () => {
    const store = new MemoryPresenceStore();
    // One process, one store: the second "node" shares the instance.
    return { store, another: async () => store, cleanup: async () => {} };
  },
});

runRegistryConformance({
  name: 'memory',
  factory: async () => {
    const entries = new Map();
    return {
      registry: new MemoryRegistry(entries),
      another: async () => new MemoryRegistry(entries),
      cleanup: async () => {},
    };
  },
});

/** Each broken broker, and checks that must fail on it (and pass on the reference broker). */
const cases: Array<{ name: string; broken: Breakage; checks: BrokerCheck[] }> = [
  {
    name: 'subscribe resolves before the subscription is active',
    broken: { lateSubscribe: true },
    checks: [brokerChecks.roundTrip, brokerChecks.selfDelivery],
  },
  {
    name: 'no topic isolation',
    broken: { noIsolation: true },
    checks: [brokerChecks.isolation, brokerChecks.prefixTopics, brokerChecks.manyTopics],
  },
  {
    name: 'unsubscribe does nothing',
    broken: { ignoreUnsubscribe: true },
    checks: [brokerChecks.unsubscribe, brokerChecks.unsubscribeOne],
  },
  { name: 'sloppy with bytes', broken: { sloppyBytes: true }, checks: [brokerChecks.payloads] },
  { name: 'reorders messages', broken: { reorder: true }, checks: [brokerChecks.order] },
  {
    name: 'publish after close resolves',
    broken: { silentAfterClose: true },
    checks: [brokerChecks.publishAfterClose],
  },
  { name: 'errors are swallowed', broken: { swallowErrors: true }, checks: [brokerChecks.unreachable] },
];

describe('the broker suite catches broken brokers', () => {
  for (const { name, broken, checks } of cases) {
    describe(name, () => {
      for (const check of checks) {
        it(`fails "${check.title}"`, async () => {
          await expect(runBrokerCheck(options(broken), check)).rejects.toThrow();
        });
        it(`passes "${check.title}" on the reference broker`, async () => {
          await expect(runBrokerCheck(options(), check)).resolves.toBe('passed');
        });
      }
    });
  }

  it('skips the unreachable check when no unreachable broker is given', async () => {
    const { unreachable: _, ...rest } = options();
    await expect(runBrokerCheck(rest, brokerChecks.unreachable)).resolves.toBe('skipped');
  });
});
