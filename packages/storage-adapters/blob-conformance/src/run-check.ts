import type { BlobStore } from '@natter/server-core';
import type { BlobCheck, BlobCheckContext, BlobConformanceScale, BlobFactory } from './harness.js';

const MIB = 1024 * 1024;

/** The default size of the streaming checks. */
export const DEFAULT_BLOB_SCALE: BlobConformanceScale = {
  largeBlobBytes: 64 * MIB,
  rssGrowthBound: 32 * MIB,
  concurrentPuts: 8,
};

/** Resolves the scale: defaults, then the caller's, with the RSS bound following the blob size unless given. */
export function blobScale(scale: Partial<BlobConformanceScale> = {}): BlobConformanceScale {
  const largeBlobBytes = scale.largeBlobBytes ?? DEFAULT_BLOB_SCALE.largeBlobBytes;
  return {
    ...DEFAULT_BLOB_SCALE,
    rssGrowthBound: Math.floor(largeBlobBytes / 2),
    ...scale,
    largeBlobBytes,
  };
}

/**
 * Runs one check against a fresh store from `factory`: opens it, runs the check, closes every store it
 * opened and calls the harness's `cleanup`. Resolves `'passed'`, or `'skipped'` when the check needs a
 * reopenable store or a capability this one lacks; rejects when the check fails. Use it to run a single
 * check outside the suite, e.g. to prove a broken adapter fails it.
 */
export async function runBlobCheck(
  factory: BlobFactory,
  check: BlobCheck,
  scale: Partial<BlobConformanceScale> = {},
): Promise<'passed' | 'skipped'> {
  const harness = await factory();
  const opened = new Set<BlobStore>();
  let failure: { error: unknown } | undefined;
  let outcome: 'passed' | 'skipped' = 'passed';
  try {
    const canReopen = harness.reopen !== undefined && harness.store.manifest.capabilities.persistent;
    if (
      (check.needsReopen && !canReopen) ||
      (check.needsCapability && !harness.store.manifest.capabilities[check.needsCapability])
    ) {
      outcome = 'skipped';
    } else {
      let store = harness.store;
      opened.add(store);
      await store.open();
      const reopen = async (): Promise<BlobStore> => {
        opened.delete(store);
        await store.close();
        store = await harness.reopen!();
        opened.add(store);
        await store.open();
        return store;
      };
      const context: BlobCheckContext = {
        get store() {
          return store;
        },
        reopen: canReopen ? reopen : undefined,
        scale: blobScale(scale),
      };
      await check.run(context);
    }
  } catch (error) {
    failure = { error };
  }
  // Release everything also when the check failed; report the check's own failure first.
  const releaseErrors: unknown[] = [];
  for (const store of opened) await store.close().catch((error: unknown) => releaseErrors.push(error));
  await harness.cleanup().catch((error: unknown) => releaseErrors.push(error));
  if (failure) throw failure.error;
  if (releaseErrors.length > 0) throw releaseErrors[0];
  return outcome;
}
