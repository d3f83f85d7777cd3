import { describe, expect, it } from 'vitest';
import { type BlobCheck, type BlobFactory, blobChecks, runBlobCheck } from '../src/index.js';
import {
  brokenFactory,
  buffersWholeBlobs,
  deleteNotIdempotent,
  ignoresAbort,
  keepsPartialBlobs,
  randomKeys,
  sloppyRanges,
  throwsOnMissing,
} from './broken-stores.js';

const correct = brokenFactory();
// The streaming check on 16 MiB keeps the self-test quick; a buffering store still grows by 16 MiB+.
const scale = { largeBlobBytes: 16 * 1024 * 1024 };

/** Each broken store, and checks that must fail on it (and pass on the correct store it wraps). */
const cases: Array<{ name: string; broken: BlobFactory; checks: BlobCheck[] }> = [
  {
    name: 'a store that buffers whole blobs in memory',
    broken: brokenFactory(buffersWholeBlobs),
    checks: [blobChecks.largeBlobStreams],
  },
  {
    name: 'a store that keeps what arrived before the source failed',
    broken: brokenFactory(keepsPartialBlobs),
    checks: [blobChecks.failingSmallSource, blobChecks.failingLargeSource, blobChecks.failureIsolated],
  },
  {
    name: 'a store with off-by-one ranges and no suffix ranges',
    broken: brokenFactory(sloppyRanges),
    checks: [blobChecks.byteRanges, blobChecks.suffixRanges],
  },
  {
    name: 'a store whose delete rejects for a missing blob',
    broken: brokenFactory(deleteNotIdempotent),
    checks: [blobChecks.deleteIdempotent],
  },
  {
    name: 'a store that does not address blobs by content',
    broken: brokenFactory(randomKeys),
    checks: [blobChecks.roundTrip, blobChecks.samePutTwice, blobChecks.concurrentSameContent],
  },
  {
    name: 'a store whose head rejects for a missing blob',
    broken: brokenFactory(throwsOnMissing),
    checks: [blobChecks.missing],
  },
  {
    name: 'a store that ignores the abort signal',
    broken: brokenFactory(ignoresAbort),
    checks: [blobChecks.abortedPut],
  },
  {
    name: 'a store that forgets its blobs on reopen',
    broken: brokenFactory(undefined, { forgetOnReopen: true }),
    checks: [blobChecks.survivesReopen],
  },
];

describe('the blob conformance suite catches broken stores', () => {
  for (const { name, broken, checks } of cases) {
    describe(name, () => {
      for (const check of checks) {
        it(`fails "${check.title}"`, async () => {
          const error = await runBlobCheck(broken, check, scale).then(
            () => undefined,
            (caught: unknown) => caught,
          );
          // An assertion error, not a crash of the wrapper: the suite detected the breakage.
          expect(error, 'the check passed on a broken store').toBeDefined();
          expect((error as Error).name).toBe('AssertionError');
        });
        it(`passes "${check.title}" on the correct store it wraps`, async () => {
          await expect(runBlobCheck(correct, check, scale)).resolves.toBe('passed');
        });
      }
    });
  }
});

describe('runBlobCheck', () => {
  it('skips the presign checks for a store that does not declare presign', async () => {
    await expect(runBlobCheck(correct, blobChecks.presignServes)).resolves.toBe('skipped');
  });

  it('skips the persistence check when the harness cannot reopen', async () => {
    const noReopen: BlobFactory = async () => ({ ...(await correct()), reopen: undefined });
    await expect(runBlobCheck(noReopen, blobChecks.survivesReopen)).resolves.toBe('skipped');
  });

  it('closes the store and cleans up even when the check fails', async () => {
    const events: string[] = [];
    const factory: BlobFactory = async () => {
      const harness = await correct();
      const { store } = harness;
      return {
        store: { ...store, close: async () => void events.push('close') },
        cleanup: async () => {
          events.push('cleanup');
          await harness.cleanup();
        },
      };
    };
    const failing: BlobCheck = { group: 'x', title: 'fails', run: async () => expect(1).toBe(2) };
    await expect(runBlobCheck(factory, failing)).rejects.toThrow();
    expect(events).toEqual(['close', 'cleanup']);
  });
});
