import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS, ErrorCode } from '@natter/protocol';
import type { StorageAdapter } from '@natter/server-core';
import { ChatService, DeviceDirectory, EncryptedChannels } from '@natter/server-core/internals';
import { expect } from 'vitest';
import { userRecord } from '../fixtures.js';
import { defineCheck } from '../harness.js';
import { rejection } from './lifecycle-service.js';

// The Delivery Service keeps its rows in the keyed-record store of the `moderation` capability.
const keyedRows = { needsCapability: 'moderation' } as const;

const u16 = (n: number) => [n >> 8, n & 0xff];
const u64 = (n: number) => [0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const vector = (bytes: Uint8Array) => [bytes.length, ...bytes];
const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');

/**
 * Just enough MLS framing for the server's header reader (RFC 9420 §6): the Delivery Service reads only the
 * cleartext header, so a storage check needs no MLS library. Random tails make each object distinct.
 */
const mls = {
  commit: (groupId: string, epoch: number) =>
    b64([...u16(1), ...u16(2), ...vector(Buffer.from(groupId)), ...u64(epoch), 3, ...randomBytes(48)]),
  groupInfo: (groupId: string, epoch: number) =>
    b64([...u16(1), ...u16(4), ...u16(1), ...u16(1), ...vector(Buffer.from(groupId)), ...u64(epoch)]),
  welcome: () => b64([...u16(1), ...u16(3), ...randomBytes(32)]),
  keyPackage: () => b64([...u16(1), ...u16(5), ...randomBytes(32)]),
};

/** The Delivery Service over the adapter, with two users (each one device) in a new encrypted group. */
async function deliveryService(adapter: StorageAdapter) {
  const now = () => 1_700_000_000_000;
  const sink = { deliver: () => undefined };
  const devices = new DeviceDirectory({ chat: adapter.chat, now });
  const channels = new EncryptedChannels({ chat: adapter.chat, sink, now });
  const service = new ChatService({
    chat: adapter.chat,
    accounts: adapter.accounts,
    limits: DEFAULT_LIMITS,
    sink,
    now,
    encryption: channels,
  });
  for (const id of ['u_ann', 'u_ben', 'u_cy'])
    await adapter.accounts.createUser(userRecord(id.slice(2), { id }));
  for (const id of ['u_ann', 'u_ben', 'u_cy']) await devices.publish(id, 'dev_1', b64([...randomBytes(32)]));
  const group = await service.createGroup('u_ann', 'vault', ['u_ben', 'u_cy'], 'user', true);
  return { devices, channels, service, channelId: group.id };
}

/** The end-to-end encryption Delivery Service's atomic steps, on the adapter's transactions. */
export const e2eeChecks = {
  e2eeClaimRace: defineCheck(
    'e2ee',
    'concurrent claims of one device never get the same KeyPackage; the rest get the last-resort one',
    async ({ adapter }) => {
      const { devices, channels, channelId } = await deliveryService(adapter);
      const stocked = [mls.keyPackage(), mls.keyPackage(), mls.keyPackage()];
      const lastResort = mls.keyPackage();
      await devices.upload('u_ben', 'dev_1', stocked, lastResort);
      const target = [{ userId: 'u_ben', deviceId: 'dev_1' }];
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          devices.claim(target, (m) =>
            channels.requireMembers(m, channelId, i % 2 === 0 ? 'u_ann' : 'u_cy', ['u_ben']),
          ),
        ),
      );
      const got = claims.map((c) => c[0]!);
      const single = got.filter((k) => !k.lastResort).map((k) => k.keyPackage);
      expect(single.sort()).toEqual([...stocked].sort());
      expect(got.filter((k) => k.lastResort).map((k) => k.keyPackage)).toEqual(Array(5).fill(lastResort));
      expect(await devices.stock('u_ben', 'dev_1')).toEqual({ remaining: 0, hasLastResort: true, low: true });
    },
    keyedRows,
  ),

  e2eeStaleEpoch: defineCheck(
    'e2ee',
    'a commit for a stale epoch writes nothing: no log entry, no epoch change, no Welcome queued',
    async ({ adapter }) => {
      const { channels, service, channelId } = await deliveryService(adapter);
      const first = await channels.commit('u_ann', 'dev_1', channelId, {
        commit: mls.commit(channelId, 0),
        groupInfo: mls.groupInfo(channelId, 1),
        welcome: mls.welcome(),
        added: [{ userId: 'u_ben', deviceId: 'dev_1' }],
        removed: [],
      });
      expect(first.epoch).toBe(1);
      const head = await adapter.chat.syncHead('u_cy');
      const stale = channels.commit('u_ann', 'dev_1', channelId, {
        commit: mls.commit(channelId, 0),
        groupInfo: mls.groupInfo(channelId, 1),
        welcome: mls.welcome(),
        added: [{ userId: 'u_cy', deviceId: 'dev_1' }],
        removed: [],
      });
      expect(await rejection(stale)).toBe(ErrorCode.E2EE_STALE_EPOCH);
      expect(await adapter.chat.syncHead('u_cy')).toBe(head);
      expect(await channels.queue('u_cy', 'dev_1')).toEqual([]);
      expect(await channels.queue('u_ben', 'dev_1')).toHaveLength(1);
      expect((await service.getChannel('u_ann', channelId)).mlsEpoch).toBe(1);
    },
    keyedRows,
  ),

  e2eeCommitRace: defineCheck(
    'e2ee',
    'two concurrent commits for one epoch: exactly one is accepted, with the next seq, and the epoch rises once',
    async ({ adapter }) => {
      const { channels, service, channelId } = await deliveryService(adapter);
      await channels.commit('u_ann', 'dev_1', channelId, {
        commit: mls.commit(channelId, 0),
        groupInfo: mls.groupInfo(channelId, 1),
        welcome: mls.welcome(),
        added: [
          { userId: 'u_ben', deviceId: 'dev_1' },
          { userId: 'u_cy', deviceId: 'dev_1' },
        ],
        removed: [],
      });
      const results = await Promise.allSettled(
        ['u_ben', 'u_cy'].map((userId) =>
          channels.commit(userId, 'dev_1', channelId, {
            commit: mls.commit(channelId, 1),
            groupInfo: mls.groupInfo(channelId, 2),
            added: [],
            removed: [],
          }),
        ),
      );
      const accepted = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected');
      expect(accepted).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
        code: ErrorCode.E2EE_STALE_EPOCH,
      });
      expect((await service.getChannel('u_ann', channelId)).mlsEpoch).toBe(2);
      const page = await adapter.chat.readHistory(channelId, { limit: 50, minSeq: 1 });
      const commits = page.messages.filter((m) => m.system?.action === 'mls_commit');
      expect(commits.map((m) => (m.system as { epoch: number }).epoch)).toEqual([1, 2]);
      expect(commits[1]!.seq).toBe(commits[0]!.seq + 1);
    },
    keyedRows,
  ),
};
