import { describe, it } from 'vitest';
import { brokerChecks } from './checks/broker.js';
import { presenceChecks } from './checks/presence.js';
import { registryChecks } from './checks/registry.js';
import type {
  BrokerConformanceOptions,
  Check,
  PresenceConformanceOptions,
  RegistryConformanceOptions,
} from './harness.js';
import { runBrokerCheck, runPresenceCheck, runRegistryCheck } from './run.js';

function register<C>(
  title: string,
  checks: Record<string, Check<C>>,
  run: (check: Check<C>) => Promise<'passed' | 'skipped'>,
): void {
  const groups = new Map<string, Check<C>[]>();
  for (const check of Object.values(checks))
    groups.set(check.group, [...(groups.get(check.group) ?? []), check]);
  describe(title, () => {
    for (const [group, members] of groups) {
      describe(group, () => {
        for (const check of members) {
          it(check.title, async (context) => {
            if ((await run(check)) === 'skipped') context.skip();
          });
        }
      });
    }
  });
}

/**
 * Registers the Broker conformance suite with vitest: one `it` per behaviour of the contract, each with
 * fresh brokers from `options.factory`. Call it at the top level of a test file.
 *
 * @example
 * ```ts
 * import { runBrokerConformance } from '@natter/broker-conformance';
 * import { createRedisBroker } from '@natter/broker-redis';
 *
 * runBrokerConformance({
 *   name: 'redis',
 *   factory: async () => createRedisBroker({ url: 'redis://127.0.0.1:6379' }),
 *   unreachable: () => createRedisBroker({ url: 'redis://127.0.0.1:1' }),
 * });
 * ```
 */
export function runBrokerConformance(options: BrokerConformanceOptions): void {
  register(`broker conformance: ${options.name}`, brokerChecks, (check) => runBrokerCheck(options, check));
}

/** Registers the PresenceStore conformance suite with vitest (see {@link runBrokerConformance}). */
export function runPresenceStoreConformance(options: PresenceConformanceOptions): void {
  register(`presence store conformance: ${options.name}`, presenceChecks, (check) =>
    runPresenceCheck(options, check),
  );
}

/** Registers the NodeRegistry conformance suite with vitest (see {@link runBrokerConformance}). */
export function runRegistryConformance(options: RegistryConformanceOptions): void {
  register(`registry conformance: ${options.name}`, registryChecks, (check) =>
    runRegistryCheck(options, check),
  );
}
