import { expect } from 'vitest';
import { append, channelRecord, createChannel, memberRecord, textMessage } from '../fixtures.js';
import { defineCheck } from '../harness.js';

const byUserId = <T extends { userId: string }>(a: T, b: T) => (a.userId < b.userId ? -1 : 1);

/** Channels and memberships. */
export const channelChecks = {
  insertAndGetChannel: defineCheck(
    'channels',
    'insertChannel stores a channel with lastSeq 0, seen inside the write and after it',
    async ({ adapter }) => {
      const group = channelRecord('c_group', { createdAt: 1_234 });
      const direct = channelRecord('c_direct', { kind: 'direct', name: null, directKey: 'u_a|u_b' });
      const seenInside = await adapter.chat.write(async (tx) => {
        await tx.insertChannel(group);
        await tx.insertChannel(direct);
        return tx.getChannel('c_group');
      });
      expect(seenInside).toEqual({ ...group, lastSeq: 0 });
      expect(await adapter.chat.getChannel('c_group')).toEqual({ ...group, lastSeq: 0 });
      expect(await adapter.chat.getChannel('c_direct')).toEqual({ ...direct, lastSeq: 0 });
      expect(await adapter.chat.getChannel('c_unknown')).toBeUndefined();
    },
  ),

  findDirectChannel: defineCheck(
    'channels',
    'findDirectChannel finds a direct channel by its key',
    async ({ adapter }) => {
      const direct = channelRecord('c_direct', { kind: 'direct', name: null, directKey: 'u_a|u_b' });
      await adapter.chat.write((tx) => tx.insertChannel(direct));
      await adapter.chat.write((tx) => tx.insertChannel(channelRecord('c_group')));
      const found = await adapter.chat.write(async (tx) => ({
        hit: await tx.findDirectChannel('u_a|u_b'),
        miss: await tx.findDirectChannel('u_a|u_c'),
      }));
      expect(found).toEqual({ hit: { ...direct, lastSeq: 0 }, miss: undefined });
    },
  ),

  members: defineCheck(
    'channels',
    'upsertMember inserts and updates members, getMember and listMembers return them, deleteMember removes one',
    async ({ adapter }) => {
      const alice = memberRecord('c1', 'u_alice', { role: 'admin' });
      const bob = memberRecord('c1', 'u_bob', { joinedSeq: 3 });
      await adapter.chat.write(async (tx) => {
        await tx.insertChannel(channelRecord('c1'));
        await tx.upsertMember(alice);
        await tx.upsertMember(bob);
        expect(await tx.getMember('c1', 'u_bob')).toEqual(bob);
        expect((await tx.listMembers('c1')).sort(byUserId)).toEqual([alice, bob]);
      });
      expect(await adapter.chat.getMember('c1', 'u_alice')).toEqual(alice);
      expect((await adapter.chat.listMembers('c1')).sort(byUserId)).toEqual([alice, bob]);

      const promoted = { ...bob, role: 'admin' as const, readSeq: 2 };
      await adapter.chat.write((tx) => tx.upsertMember(promoted));
      expect(await adapter.chat.getMember('c1', 'u_bob')).toEqual(promoted);

      await adapter.chat.write(async (tx) => {
        await tx.deleteMember('c1', 'u_alice');
        expect(await tx.getMember('c1', 'u_alice')).toBeUndefined();
        expect(await tx.listMembers('c1')).toEqual([promoted]);
      });
      expect(await adapter.chat.getMember('c1', 'u_alice')).toBeUndefined();
      expect(await adapter.chat.listMembers('c1')).toEqual([promoted]);
      expect(await adapter.chat.listMembers('c_unknown')).toEqual([]);
      expect(await adapter.chat.listChannelsOf('u_alice')).toEqual([]);
    },
  ),

  renameChannel: defineCheck('channels', 'renameChannel changes only the name', async ({ adapter }) => {
    const channel = channelRecord('c1', { name: 'old' });
    await adapter.chat.write((tx) => tx.insertChannel(channel));
    await adapter.chat.write(async (tx) => {
      await tx.renameChannel('c1', 'new');
      expect((await tx.getChannel('c1'))?.name).toBe('new');
    });
    expect(await adapter.chat.getChannel('c1')).toEqual({ ...channel, name: 'new', lastSeq: 0 });
  }),

  listChannelsOf: defineCheck(
    'channels',
    "listChannelsOf returns the user's channels with the membership, newest activity first",
    async ({ adapter }) => {
      await createChannel(adapter, 'c_old', ['u_alice', 'u_bob'], { createdAt: 1_000 });
      await createChannel(adapter, 'c_mid', ['u_alice'], { createdAt: 2_000 });
      await createChannel(adapter, 'c_new', ['u_alice', 'u_bob'], { createdAt: 3_000 });
      await createChannel(adapter, 'c_other', ['u_bob'], { createdAt: 4_000 });
      const ids = async (userId: string) =>
        (await adapter.chat.listChannelsOf(userId)).map((e) => e.channel.id);
      expect(await ids('u_alice')).toEqual(['c_new', 'c_mid', 'c_old']);

      await append(adapter, textMessage('c_old', 'u_bob', { createdAt: 5_000 }), ['u_alice', 'u_bob']);
      expect(await ids('u_alice')).toEqual(['c_old', 'c_new', 'c_mid']);
      expect(await ids('u_bob')).toEqual(['c_old', 'c_other', 'c_new']);
      await append(adapter, textMessage('c_mid', 'u_alice', { createdAt: 6_000 }), ['u_alice']);
      expect(await ids('u_alice')).toEqual(['c_mid', 'c_old', 'c_new']);

      const [first] = await adapter.chat.listChannelsOf('u_alice');
      expect(first).toEqual({
        channel: { ...channelRecord('c_mid', { createdAt: 2_000 }), lastSeq: 1 },
        member: memberRecord('c_mid', 'u_alice', { joinedAt: 2_000 }),
      });
      expect(await adapter.chat.listChannelsOf('u_nobody')).toEqual([]);
    },
  ),

  readMarker: defineCheck(
    'channels',
    'raiseReadMarker raises the marker, never lowers it, and returns the marker after the call',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice']);
      expect(await adapter.chat.write((tx) => tx.raiseReadMarker('c1', 'u_alice', 5))).toBe(5);
      expect(await adapter.chat.write((tx) => tx.raiseReadMarker('c1', 'u_alice', 3))).toBe(5);
      expect((await adapter.chat.getMember('c1', 'u_alice'))?.readSeq).toBe(5);
      expect(await adapter.chat.write((tx) => tx.raiseReadMarker('c1', 'u_alice', 8))).toBe(8);
      expect((await adapter.chat.getMember('c1', 'u_alice'))?.readSeq).toBe(8);
    },
  ),

  deliveredMarker: defineCheck(
    'channels',
    'raiseDeliveredMarker raises the delivery marker, never lowers it, and leaves the read marker alone',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      const raise = (userId: string, seq: number) =>
        adapter.chat.write((tx) => tx.raiseDeliveredMarker('c1', userId, seq));
      expect(await raise('u_alice', 4)).toBe(4);
      expect(await raise('u_alice', 2)).toBe(4);
      expect(await adapter.chat.getMember('c1', 'u_alice')).toMatchObject({ deliveredSeq: 4, readSeq: 0 });
      expect(await adapter.chat.write((tx) => tx.raiseReadMarker('c1', 'u_alice', 3))).toBe(3);
      expect(await adapter.chat.getMember('c1', 'u_alice')).toMatchObject({ deliveredSeq: 4, readSeq: 3 });
      expect(await raise('u_alice', 9)).toBe(9);
      expect((await adapter.chat.getMember('c1', 'u_bob'))?.deliveredSeq).toBe(0);
      const [entry] = await adapter.chat.listChannelsOf('u_alice');
      expect(entry?.member).toEqual(
        memberRecord('c1', 'u_alice', { joinedAt: 1_000, readSeq: 3, deliveredSeq: 9 }),
      );
      // upsertMember stores the marker as given, like every other field.
      await adapter.chat.write((tx) => tx.upsertMember(memberRecord('c1', 'u_bob', { deliveredSeq: 7 })));
      expect((await adapter.chat.listMembers('c1')).find((m) => m.userId === 'u_bob')?.deliveredSeq).toBe(7);
    },
  ),

  markersOfNonMembers: defineCheck(
    'channels',
    'raising a marker of a non-member (or in an unknown channel) returns 0 and creates no membership',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice']);
      const results = await adapter.chat.write(async (tx) => [
        await tx.raiseReadMarker('c1', 'u_nobody', 5),
        await tx.raiseDeliveredMarker('c1', 'u_nobody', 5),
        await tx.raiseReadMarker('c_unknown', 'u_alice', 5),
        await tx.raiseDeliveredMarker('c_unknown', 'u_alice', 5),
        await tx.getMember('c1', 'u_nobody'),
      ]);
      expect(results).toEqual([0, 0, 0, 0, undefined]);
      expect(await adapter.chat.getMember('c1', 'u_nobody')).toBeUndefined();
      expect((await adapter.chat.listMembers('c1')).map((m) => m.userId)).toEqual(['u_alice']);
      expect(await adapter.chat.listChannelsOf('u_nobody')).toEqual([]);
    },
  ),
};
