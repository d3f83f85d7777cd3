import { STORAGE_CONTRACT_VERSION } from '@natter/server-core';
import { expect } from 'vitest';
import { createChannel, textMessage } from '../fixtures.js';
import { defineCheck } from '../harness.js';

/** Manifest, epoch and closing. */
export const lifecycleChecks = {
  manifest: defineCheck(
    'lifecycle',
    'the manifest declares a name, the contract version and boolean capabilities',
    async ({ adapter }) => {
      const { manifest } = adapter;
      expect(manifest.name).toEqual(expect.any(String));
      expect(manifest.name.length).toBeGreaterThan(0);
      expect(manifest.contractVersion).toBe(STORAGE_CONTRACT_VERSION);
      expect(Number.isInteger(manifest.schemaVersion) && manifest.schemaVersion >= 1).toBe(true);
      for (const flag of ['search', 'multiProcess', 'persistent'] as const) {
        expect(typeof manifest.capabilities[flag], flag).toBe('boolean');
      }
      if (manifest.capabilities.search) {
        expect(adapter.chat.searchMessages, 'search is declared: searchMessages').toBeTypeOf('function');
      }
    },
  ),

  epochStable: defineCheck(
    'lifecycle',
    'epoch() is a non-empty string that does not change while open',
    async ({ adapter }) => {
      const epoch = adapter.chat.epoch();
      expect(epoch).toEqual(expect.any(String));
      expect(epoch.length).toBeGreaterThan(0);
      await createChannel(adapter, 'c1', ['u_alice']);
      await adapter.chat.write((tx) => tx.appendMessage(textMessage('c1', 'u_alice'), ['u_alice']));
      expect(adapter.chat.epoch()).toBe(epoch);
    },
  ),

  closeWaitsForWrites: defineCheck(
    'lifecycle',
    'close() lets the writes already queued commit',
    async (context) => {
      const { adapter } = context;
      await createChannel(adapter, 'c1', ['u_alice']);
      const writes = Array.from({ length: 20 }, () =>
        adapter.chat.write((tx) => tx.appendMessage(textMessage('c1', 'u_alice'), ['u_alice']), {
          channelId: 'c1',
        }),
      );
      await context.close();
      const seqs = (await Promise.all(writes)).map((appended) => appended.message.seq);
      expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    },
  ),
};

/** What a call made while the store is not open must be: a coded, retryable NATTER_UNAVAILABLE. */
async function expectUnavailable(call: () => Promise<unknown>, what: string): Promise<void> {
  await expect(call(), what).rejects.toMatchObject({ code: 'NATTER_UNAVAILABLE' });
}

/** The open / closing / closed rules every adapter follows (the core's `defineStorage` owns them). */
export const lifecycleRuleChecks = {
  doubleOpen: defineCheck('lifecycle', 'open() on an open store changes nothing', async ({ adapter }) => {
    await createChannel(adapter, 'c1', ['u_alice']);
    await adapter.open();
    await adapter.open();
    expect((await adapter.chat.getChannel('c1'))?.id).toBe('c1');
    await adapter.chat.write((tx) => tx.appendMessage(textMessage('c1', 'u_alice'), ['u_alice']));
    expect(await adapter.chat.syncHead('u_alice')).toBe(1);
  }),

  useAfterClose: defineCheck(
    'lifecycle',
    'every read and write after close() rejects with NATTER_UNAVAILABLE, and close() twice is harmless',
    async (context) => {
      const { adapter } = context;
      await createChannel(adapter, 'c1', ['u_alice']);
      await context.close();
      await adapter.close();
      await expectUnavailable(() => adapter.chat.getChannel('c1'), 'getChannel');
      await expectUnavailable(() => adapter.chat.readHistory('c1', { limit: 5, minSeq: 0 }), 'readHistory');
      await expectUnavailable(() => adapter.chat.readSync('u_alice', 0, 5), 'readSync');
      await expectUnavailable(() => adapter.chat.syncHead('u_alice'), 'syncHead');
      await expectUnavailable(() => adapter.accounts.getUser('u_alice'), 'getUser');
      await expectUnavailable(
        () => adapter.chat.write((tx) => tx.appendMessage(textMessage('c1', 'u_alice'), ['u_alice'])),
        'write',
      );
      expect(() => adapter.chat.epoch()).toThrow(expect.objectContaining({ code: 'NATTER_UNAVAILABLE' }));
    },
  ),

  readsDuringClose: defineCheck(
    'lifecycle',
    'calls started before close() complete; calls started after it began reject with NATTER_UNAVAILABLE',
    async (context) => {
      const { adapter } = context;
      await createChannel(adapter, 'c1', ['u_alice']);
      await adapter.chat.write((tx) => tx.appendMessage(textMessage('c1', 'u_alice'), ['u_alice']));
      const before = [
        adapter.chat.readHistory('c1', { limit: 10, minSeq: 0 }),
        adapter.chat.listMembers('c1'),
        adapter.chat.readSync('u_alice', 0, 10),
      ];
      const closing = context.close();
      await expectUnavailable(
        () => adapter.chat.readHistory('c1', { limit: 10, minSeq: 0 }),
        'read during close',
      );
      await expectUnavailable(
        () => adapter.chat.write((tx) => tx.appendMessage(textMessage('c1', 'u_alice'), ['u_alice'])),
        'write during close',
      );
      const [history, members, sync] = await Promise.all(before);
      expect((history as { messages: unknown[] }).messages).toHaveLength(1);
      expect(members).toHaveLength(1);
      expect(sync).toHaveLength(1);
      await closing;
    },
  ),

  refusesBadArguments: defineCheck(
    'lifecycle',
    'a malformed id or limit is refused with NATTER_BAD_REQUEST before it reaches the store',
    async ({ adapter }) => {
      const bad = (call: () => Promise<unknown>, what: string) =>
        expect(call(), what).rejects.toMatchObject({ code: 'NATTER_BAD_REQUEST' });
      await bad(() => adapter.chat.getChannel(''), 'empty channel id');
      await bad(() => adapter.chat.readSync('u_alice', -1, 10), 'negative cursor');
      await bad(() => adapter.chat.readSync('u_alice', 0, 1.5), 'fractional limit');
      await bad(() => adapter.chat.getMessage('c1', Number.NaN), 'NaN seq');
      await bad(() => adapter.accounts.getUser(42 as unknown as string), 'a number as id');
    },
  ),
};
