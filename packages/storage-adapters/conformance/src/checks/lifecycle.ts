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
