import { describe, it } from 'vitest';
import { storageChecks } from './checks/index.js';
import type { ConformanceCheck, ConformanceOptions } from './harness.js';
import { runCheck } from './run-check.js';

/**
 * Registers the storage conformance suite with vitest: one `describe` per area of the contract, one
 * `it` per check, each on a fresh store from `options.factory`. Call it at the top level of a test
 * file. Checks that need a reopenable, persistent store are skipped for others.
 *
 * Modelled on abstract-level's exported suite: every adapter passes a factory and runs the same tests;
 * with `reopenedRun` the same checks run again on a store that was closed and reopened first.
 *
 * @example
 * ```ts
 * import { runStorageConformance } from '@natter/storage-conformance';
 * import { createMemoryStorage } from '@natter/storage-memory';
 *
 * runStorageConformance({
 *   name: 'memory',
 *   factory: async () => ({ adapter: createMemoryStorage(), cleanup: async () => {} }),
 * });
 * ```
 */
export function runStorageConformance(options: ConformanceOptions): void {
  const groups = new Map<string, ConformanceCheck[]>();
  for (const check of Object.values(storageChecks)) {
    groups.set(check.group, [...(groups.get(check.group) ?? []), check]);
  }

  const register = (reopenFirst: boolean) => {
    for (const [group, all] of groups) {
      // Checks that reopen the store themselves gain nothing from a reopened start.
      const checks = reopenFirst ? all.filter((check) => !check.needsReopen) : all;
      if (checks.length === 0) continue;
      describe(group, () => {
        for (const check of checks) {
          it(check.title, async (context) => {
            const outcome = await runCheck(options.factory, check, { scale: options.scale, reopenFirst });
            if (outcome === 'skipped') context.skip();
          });
        }
      });
    }
  };

  describe(`storage conformance: ${options.name}`, () => register(false));
  if (options.reopenedRun ?? true) {
    describe(`storage conformance: ${options.name} (reopened store)`, () => register(true));
  }
}
