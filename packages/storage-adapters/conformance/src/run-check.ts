import type { StorageAdapter } from '@natter/server-core';
import type {
  CheckContext,
  ConformanceCheck,
  ConformanceScale,
  StorageFactory,
  StorageHarness,
} from './harness.js';

/** The default size of the concurrency checks. */
export const DEFAULT_SCALE: ConformanceScale = { channels: 20, writes: 500 };

/** Options of {@link runCheck}. */
export interface RunCheckOptions {
  /** Size of the concurrency checks. */
  scale?: Partial<ConformanceScale>;
  /**
   * Open, close and reopen the store before the check runs (needs a reopenable, persistent store).
   * @default false
   */
  reopenFirst?: boolean;
}

/**
 * Runs one check against a fresh store from `factory`: opens the adapter, runs the check, closes
 * every adapter it opened and calls the harness's `cleanup`. Resolves `'passed'`, or `'skipped'`
 * when the check needs a reopenable, persistent store and this one is not, or tests an optional
 * capability the manifest does not declare; rejects when the check fails. Use it to run a single
 * check outside the suite, e.g. to prove a broken adapter fails it.
 */
export async function runCheck(
  factory: StorageFactory,
  check: ConformanceCheck,
  options: RunCheckOptions = {},
): Promise<'passed' | 'skipped'> {
  const harness = await factory();
  const opened = new Set<StorageAdapter>();
  let outcome: 'passed' | 'skipped' = 'passed';
  let failure: { error: unknown } | undefined;
  try {
    outcome = await runInHarness(harness, check, options, opened);
  } catch (error) {
    failure = { error };
  }
  // Release everything even when the check failed; report the check's own failure first.
  const releaseErrors: unknown[] = [];
  for (const adapter of opened) await adapter.close().catch((error: unknown) => releaseErrors.push(error));
  await harness.cleanup().catch((error: unknown) => releaseErrors.push(error));
  if (failure) throw failure.error;
  if (releaseErrors.length > 0) throw releaseErrors[0];
  return outcome;
}

async function runInHarness(
  harness: StorageHarness,
  check: ConformanceCheck,
  options: RunCheckOptions,
  opened: Set<StorageAdapter>,
): Promise<'passed' | 'skipped'> {
  const canReopen = harness.reopen !== undefined && harness.adapter.manifest.capabilities.persistent;
  if ((check.needsReopen || options.reopenFirst) && !canReopen) return 'skipped';
  if (check.needsCapability && !harness.adapter.manifest.capabilities[check.needsCapability])
    return 'skipped';

  let adapter = harness.adapter;
  const openAdapter = async (next: StorageAdapter): Promise<StorageAdapter> => {
    adapter = next;
    opened.add(next);
    await next.open();
    return next;
  };
  const close = async (): Promise<void> => {
    opened.delete(adapter);
    await adapter.close();
  };
  const reopen = async (): Promise<StorageAdapter> => {
    await close();
    return openAdapter(await harness.reopen!());
  };

  await openAdapter(harness.adapter);
  if (options.reopenFirst) await reopen();
  const context: CheckContext = {
    get adapter() {
      return adapter;
    },
    reopen: canReopen ? reopen : undefined,
    close,
    scale: { ...DEFAULT_SCALE, ...options.scale },
  };
  await check.run(context);
  return 'passed';
}
