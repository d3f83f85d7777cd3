import { createMemoryStorage } from '@natter/storage-memory';
import { describe, expect, it } from 'vitest';
import {
  type ConformanceCheck,
  runCheck,
  type StorageFactory,
  storageChecks,
  withoutAppendChecked,
} from '../src/index.js';
import {
  brokenFactory,
  forgetfulFactory,
  historyDescending,
  lowersDeliveredMarker,
  lowersReadMarker,
  mentionsIgnoreMembership,
  noRollback,
  searchMatchesAnyWord,
  searchRejectsSyntax,
  skipsSequenceNumbers,
  syncSkipsEntry,
  unreadCountsOwn,
  withAppendChecked,
} from './broken-adapters.js';

const correct = brokenFactory();
const correctPersistent = brokenFactory(undefined, { persistent: true });

/** Each broken adapter, and checks that must fail on it (and pass on the correct adapter it wraps). */
const cases: Array<{
  name: string;
  broken: StorageFactory;
  control: StorageFactory;
  checks: ConformanceCheck[];
}> = [
  {
    name: 'an adapter that skips sequence numbers',
    broken: brokenFactory(skipsSequenceNumbers),
    control: correct,
    checks: [storageChecks.sequences, storageChecks.concurrentAppends, storageChecks.callOrderPerChannel],
  },
  {
    name: 'an adapter that does not roll back a throwing write',
    broken: brokenFactory(noRollback),
    control: correct,
    checks: [
      storageChecks.throwingWriteLeavesNothing,
      storageChecks.failureIsolated,
      storageChecks.concurrentAppends,
    ],
  },
  {
    name: 'an adapter that forgets its data on reopen',
    broken: forgetfulFactory(),
    control: correctPersistent,
    checks: [storageChecks.reopenKeepsEverything, storageChecks.reopenContinuesSequences],
  },
  {
    name: 'an adapter that returns history newest first',
    broken: brokenFactory(historyDescending),
    control: correct,
    checks: [storageChecks.latest, storageChecks.before, storageChecks.after, storageChecks.sweep],
  },
  {
    name: "an adapter that counts the reader's own messages as unread",
    broken: brokenFactory(unreadCountsOwn),
    control: correct,
    checks: [storageChecks.countUnread],
  },
  {
    name: 'an adapter that lowers read markers',
    broken: brokenFactory(lowersReadMarker),
    control: correct,
    checks: [storageChecks.readMarker],
  },
  {
    name: 'an adapter that lowers delivery markers',
    broken: brokenFactory(lowersDeliveredMarker),
    control: correct,
    checks: [storageChecks.deliveredMarker],
  },
  {
    name: 'an adapter whose mentions ignore membership and join time',
    broken: brokenFactory(mentionsIgnoreMembership),
    control: correct,
    checks: [storageChecks.mentionsVisibility],
  },
  {
    name: 'an adapter whose search matches any word',
    broken: brokenFactory(searchMatchesAnyWord),
    control: correct,
    checks: [storageChecks.searchAllWords],
  },
  {
    name: 'an adapter whose search fails on query syntax',
    broken: brokenFactory(searchRejectsSyntax),
    control: correct,
    checks: [storageChecks.searchPlainWords],
  },
  {
    name: 'an adapter whose sync paging skips an entry',
    broken: brokenFactory(syncSkipsEntry),
    control: correct,
    checks: [storageChecks.readSyncPaging, storageChecks.concurrentAppends],
  },
  {
    name: 'an appendChecked that stores the sends of non-members',
    broken: brokenFactory(withAppendChecked({ anyone: true })),
    control: brokenFactory(withAppendChecked()),
    checks: [storageChecks.sendRefused, storageChecks.concurrentSends],
  },
  {
    name: 'an appendChecked that keeps mentions of non-members',
    broken: brokenFactory(withAppendChecked({ allMentions: true })),
    control: brokenFactory(withAppendChecked()),
    checks: [storageChecks.sendMentions],
  },
  {
    name: 'an appendChecked that does not look up the idempotency key',
    broken: brokenFactory(withAppendChecked({ noKeyLookup: true })),
    control: brokenFactory(withAppendChecked()),
    checks: [storageChecks.sendRetried],
  },
];

describe('the conformance suite catches broken adapters', () => {
  for (const { name, broken, control, checks } of cases) {
    describe(name, () => {
      for (const check of checks) {
        it(`fails "${check.title}"`, async () => {
          // An assertion error, not a crash of the wrapper: the suite detected the breakage.
          await expect(runCheck(broken, check)).rejects.toMatchObject({ name: 'AssertionError' });
        });
        it(`passes "${check.title}" on the correct adapter it wraps`, async () => {
          await expect(runCheck(control, check)).resolves.toBe('passed');
        });
      }
    });
  }
});

describe('withoutAppendChecked', () => {
  it("hides the adapter's appendChecked, so sends take the core's own path", async () => {
    // The broken appendChecked would store a stranger's send; hidden, the core refuses it.
    const hidden = withoutAppendChecked(brokenFactory(withAppendChecked({ anyone: true })));
    await expect(runCheck(hidden, storageChecks.sendRefused)).resolves.toBe('passed');
  });
});

describe('runCheck', () => {
  it('skips checks that need a reopenable store when the harness cannot reopen', async () => {
    await expect(runCheck(correct, storageChecks.reopenKeepsEverything)).resolves.toBe('skipped');
  });

  it('skips checks of a capability the manifest does not declare', async () => {
    const withoutSearch: StorageFactory = async () => {
      const harness = await correct();
      const { manifest } = harness.adapter;
      const adapter = {
        ...harness.adapter,
        manifest: { ...manifest, capabilities: { ...manifest.capabilities, search: false } },
        open: () => harness.adapter.open(),
        close: () => harness.adapter.close(),
      };
      return { ...harness, adapter };
    };
    await expect(runCheck(withoutSearch, storageChecks.searchAllWords)).resolves.toBe('skipped');
  });

  it('closes the adapter and cleans up even when the check fails', async () => {
    const events: string[] = [];
    const factory: StorageFactory = async () => {
      const adapter = createMemoryStorage();
      const close = adapter.close.bind(adapter);
      adapter.close = async () => {
        events.push('close');
        await close();
      };
      return { adapter, cleanup: async () => void events.push('cleanup') };
    };
    const failing: ConformanceCheck = { group: 'x', title: 'fails', run: async () => expect(1).toBe(2) };
    await expect(runCheck(factory, failing)).rejects.toThrow();
    expect(events).toEqual(['close', 'cleanup']);
  });

  it('runs every check on the correct memory adapter', async () => {
    for (const check of Object.values(storageChecks)) {
      await expect(runCheck(correctPersistent, check, { scale: { writes: 100 } }), check.title).resolves.toBe(
        'passed',
      );
    }
  });
});
