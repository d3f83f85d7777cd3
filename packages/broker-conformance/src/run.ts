import { randomBytes } from 'node:crypto';
import type { Broker, NodeRegistry } from '@natter/server-core';
import type {
  BrokerCheck,
  BrokerCheckContext,
  BrokerConformanceOptions,
  ClosablePresenceStore,
  PresenceCheck,
  PresenceCheckContext,
  PresenceConformanceOptions,
  RegistryCheck,
  RegistryCheckContext,
  RegistryConformanceOptions,
} from './harness.js';
import { within } from './wait.js';

/** A short random token that keeps topics, users and nodes of concurrent runs apart. */
export const uniqueToken = () => randomBytes(6).toString('hex');

/** Settles every release, then throws the check's own failure first, else the first release failure. */
async function finish(failure: { error: unknown } | undefined, releases: Array<() => Promise<unknown>>) {
  const errors: unknown[] = [];
  for (const release of releases) await release().catch((error: unknown) => errors.push(error));
  if (failure) throw failure.error;
  if (errors.length > 0) throw errors[0];
}

/**
 * Runs one broker check: hands it fresh brokers from `options.factory`, then closes every broker it opened,
 * also when the check failed. Resolves `'skipped'` when the options lack what the check needs.
 */
export async function runBrokerCheck(
  options: BrokerConformanceOptions,
  check: BrokerCheck,
): Promise<'passed' | 'skipped'> {
  const opened: Broker[] = [];
  const run = uniqueToken();
  let counter = 0;
  const errorWithinMs = options.errorWithinMs ?? 5_000;
  const unreachable = options.unreachable;
  const context: BrokerCheckContext = {
    async open() {
      const broker = await options.factory();
      opened.push(broker);
      return broker;
    },
    unreachable: unreachable
      ? () => {
          const broker = unreachable();
          opened.push(broker);
          return broker;
        }
      : undefined,
    topic: (label) => `natter.conformance.${run}.${++counter}${label ? `.${label}` : ''}`,
    errorWithinMs,
    quietMs: options.quietMs ?? 250,
    deliveryWithinMs: options.deliveryWithinMs ?? 5_000,
  };
  if (check.requires && !check.requires(context)) return 'skipped';
  let failure: { error: unknown } | undefined;
  try {
    await check.run(context);
  } catch (error) {
    failure = { error };
  }
  await finish(
    failure,
    opened.map((broker) => () => within(broker.close(), errorWithinMs, 'broker close')),
  );
  return 'passed';
}

/** Runs one presence check on a fresh store, then releases it, also when the check failed. */
export async function runPresenceCheck(
  options: PresenceConformanceOptions,
  check: PresenceCheck,
): Promise<'passed' | 'skipped'> {
  const harness = await options.factory();
  const run = uniqueToken();
  let counter = 0;
  const others: ClosablePresenceStore[] = [];
  const another = harness.another;
  const context: PresenceCheckContext = {
    store: harness.store,
    another: another
      ? async () => {
          const store = await another();
          others.push(store);
          return store;
        }
      : undefined,
    user: (label) => `u_${run}_${++counter}${label ? `_${label}` : ''}`,
  };
  let outcome: 'passed' | 'skipped' = 'passed';
  let failure: { error: unknown } | undefined;
  try {
    if (check.requires && !check.requires(context)) outcome = 'skipped';
    else await check.run(context);
  } catch (error) {
    failure = { error };
  }
  await finish(failure, [
    // Closing twice is harmless for every adapter; checks close what they open, this catches failures.
    ...others.map((store) => async () => store.close?.()),
    async () => harness.store.close?.(),
    () => harness.cleanup(),
  ]);
  return outcome;
}

/** Runs one registry check on a fresh registry, then releases it, also when the check failed. */
export async function runRegistryCheck(
  options: RegistryConformanceOptions,
  check: RegistryCheck,
): Promise<'passed' | 'skipped'> {
  const harness = await options.factory();
  const run = uniqueToken();
  let counter = 0;
  const others: NodeRegistry[] = [];
  const context: RegistryCheckContext = {
    registry: harness.registry,
    async another() {
      const registry = await harness.another();
      others.push(registry);
      return registry;
    },
    expiresWithoutHeartbeat: harness.expiresWithoutHeartbeat ?? true,
    nodeId: (label) => `node_${run}_${++counter}${label ? `_${label}` : ''}`,
  };
  let outcome: 'passed' | 'skipped' = 'passed';
  let failure: { error: unknown } | undefined;
  try {
    if (check.requires && !check.requires(context)) outcome = 'skipped';
    else await check.run(context);
  } catch (error) {
    failure = { error };
  }
  await finish(failure, [
    ...others.map((registry) => () => registry.close()),
    () => harness.registry.close(),
    () => harness.cleanup(),
  ]);
  return outcome;
}
