import { ErrorCode } from '@natter/server-core';
import { expect } from 'vitest';
import { refreshToken, userRecord } from '../fixtures.js';
import { defineCheck } from '../harness.js';

const byUsername = <T extends { username: string }>(a: T, b: T) => (a.username < b.username ? -1 : 1);

/** Users and refresh tokens (`AccountStore`). */
export const accountChecks = {
  createAndGetUser: defineCheck(
    'users',
    'createUser stores a user that getUser and findUserByUsername return',
    async ({ adapter }) => {
      const alice = userRecord('alice');
      const ext = userRecord('ext', { passwordHash: null });
      await adapter.accounts.createUser(alice);
      await adapter.accounts.createUser(ext);
      expect(await adapter.accounts.getUser(alice.id)).toEqual(alice);
      expect(await adapter.accounts.findUserByUsername('alice')).toEqual(alice);
      expect(await adapter.accounts.getUser(ext.id)).toEqual(ext);
    },
  ),

  unknownUser: defineCheck(
    'users',
    'getUser and findUserByUsername return undefined for unknown users',
    async ({ adapter }) => {
      await adapter.accounts.createUser(userRecord('alice'));
      expect(await adapter.accounts.getUser('u_nobody')).toBeUndefined();
      expect(await adapter.accounts.findUserByUsername('nobody')).toBeUndefined();
    },
  ),

  getUsers: defineCheck(
    'users',
    'getUsers returns the known users and skips unknown ids',
    async ({ adapter }) => {
      const users = ['alice', 'bob', 'carol'].map((name) => userRecord(name));
      for (const user of users) await adapter.accounts.createUser(user);
      const found = await adapter.accounts.getUsers(['u_carol', 'u_nobody', 'u_alice']);
      expect(found.sort(byUsername)).toEqual([users[0], users[2]]);
      expect(await adapter.accounts.getUsers([])).toEqual([]);
    },
  ),

  duplicateUsername: defineCheck(
    'users',
    'createUser rejects a taken username with CONFLICT and keeps the first user',
    async ({ adapter }) => {
      const first = userRecord('alice');
      await adapter.accounts.createUser(first);
      const second = userRecord('alice', { id: 'u_other', displayName: 'Impostor' });
      await expect(adapter.accounts.createUser(second)).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
      expect(await adapter.accounts.findUserByUsername('alice')).toEqual(first);
      expect(await adapter.accounts.getUser('u_other')).toBeUndefined();
    },
  ),

  searchUsers: defineCheck(
    'users',
    'searchUsers returns the users whose username starts with the prefix, by username, at most limit',
    async ({ adapter }) => {
      for (const name of ['bob', 'anna', 'alice', 'al', 'zed', 'alfred']) {
        await adapter.accounts.createUser(userRecord(name));
      }
      const names = async (prefix: string, limit: number) =>
        (await adapter.accounts.searchUsers(prefix, limit)).map((u) => u.username);
      expect(await names('al', 10)).toEqual(['al', 'alfred', 'alice']);
      expect(await names('al', 2)).toEqual(['al', 'alfred']);
      expect(await names('a', 10)).toEqual(['al', 'alfred', 'alice', 'anna']);
      expect(await names('x', 10)).toEqual([]);
      expect(await adapter.accounts.searchUsers('bob', 10)).toEqual([userRecord('bob')]);
    },
  ),

  searchUsersLiteral: defineCheck(
    'users',
    'searchUsers matches the prefix literally (SQL wildcards have no meaning)',
    async ({ adapter }) => {
      for (const name of ['a_b', 'axb', 'a%c', 'abc']) await adapter.accounts.createUser(userRecord(name));
      const names = async (prefix: string) =>
        (await adapter.accounts.searchUsers(prefix, 10)).map((u) => u.username);
      expect(await names('a_')).toEqual(['a_b']);
      expect(await names('a%')).toEqual(['a%c']);
    },
  ),

  updateUser: defineCheck(
    'users',
    'updateUser patches only the given fields and returns the updated user',
    async ({ adapter }) => {
      const alice = userRecord('alice');
      await adapter.accounts.createUser(alice);
      const renamed = await adapter.accounts.updateUser(alice.id, { displayName: 'Alice L.' });
      expect(renamed).toEqual({ ...alice, displayName: 'Alice L.' });
      const rehashed = await adapter.accounts.updateUser(alice.id, { passwordHash: '$scrypt$new' });
      expect(rehashed).toEqual({ ...alice, displayName: 'Alice L.', passwordHash: '$scrypt$new' });
      expect(await adapter.accounts.getUser(alice.id)).toEqual(rehashed);
      expect(await adapter.accounts.findUserByUsername('alice')).toEqual(rehashed);
    },
  ),

  deactivation: defineCheck(
    'users',
    'updateUser sets and clears deactivatedAt, keeps it through other patches, and every user read returns it',
    async ({ adapter }) => {
      const alice = userRecord('alice');
      await adapter.accounts.createUser(alice);
      const deactivated = await adapter.accounts.updateUser(alice.id, { deactivatedAt: 1_700_000_000_123 });
      expect(deactivated).toEqual({ ...alice, deactivatedAt: 1_700_000_000_123 });
      const renamed = await adapter.accounts.updateUser(alice.id, { displayName: 'Gone' });
      expect(renamed?.deactivatedAt).toBe(1_700_000_000_123);
      expect((await adapter.accounts.getUser(alice.id))?.deactivatedAt).toBe(1_700_000_000_123);
      expect((await adapter.accounts.findUserByUsername('alice'))?.deactivatedAt).toBe(1_700_000_000_123);
      expect((await adapter.accounts.getUsers([alice.id]))[0]?.deactivatedAt).toBe(1_700_000_000_123);
      expect((await adapter.accounts.searchUsers('ali', 5))[0]?.deactivatedAt).toBe(1_700_000_000_123);
      const active = await adapter.accounts.updateUser(alice.id, { deactivatedAt: null });
      expect(active).toEqual({ ...alice, displayName: 'Gone' });
      expect(active && 'deactivatedAt' in active).toBe(false);
      expect(await adapter.accounts.getUser(alice.id)).toEqual({ ...alice, displayName: 'Gone' });
    },
  ),

  createDeactivated: defineCheck(
    'users',
    'createUser keeps a deactivatedAt it is given, and an active user has no deactivatedAt key',
    async ({ adapter }) => {
      const bob = { ...userRecord('bob'), deactivatedAt: 42 };
      await adapter.accounts.createUser(bob);
      expect(await adapter.accounts.getUser(bob.id)).toEqual(bob);
      const carol = userRecord('carol');
      await adapter.accounts.createUser(carol);
      const stored = await adapter.accounts.getUser(carol.id);
      expect(stored && 'deactivatedAt' in stored).toBe(false);
    },
  ),

  updateUnknownUser: defineCheck(
    'users',
    'updateUser returns undefined for an unknown user',
    async ({ adapter }) => {
      expect(await adapter.accounts.updateUser('u_nobody', { displayName: 'x' })).toBeUndefined();
      expect(await adapter.accounts.getUser('u_nobody')).toBeUndefined();
    },
  ),

  tokenTakenOnce: defineCheck(
    'refresh tokens',
    'takeRefreshToken returns a saved token once, then undefined',
    async ({ adapter }) => {
      const token = refreshToken('h1', 'u_alice', 'd1', 10_000);
      await adapter.accounts.saveRefreshToken(token);
      expect(await adapter.accounts.takeRefreshToken('h1', 5_000)).toEqual(token);
      expect(await adapter.accounts.takeRefreshToken('h1', 5_000)).toBeUndefined();
      expect(await adapter.accounts.takeRefreshToken('h-unknown', 5_000)).toBeUndefined();
    },
  ),

  tokenExpired: defineCheck(
    'refresh tokens',
    'takeRefreshToken does not return an expired token',
    async ({ adapter }) => {
      const fresh = refreshToken('h2', 'u_alice', 'd1', 10_000);
      await adapter.accounts.saveRefreshToken(refreshToken('h1', 'u_alice', 'd1', 10_000));
      await adapter.accounts.saveRefreshToken(fresh);
      expect(await adapter.accounts.takeRefreshToken('h1', 10_001)).toBeUndefined();
      expect(await adapter.accounts.takeRefreshToken('h2', 9_999)).toEqual(fresh);
    },
  ),

  revokeDevice: defineCheck(
    'refresh tokens',
    "revokeRefreshTokens with a device revokes only that device's tokens",
    async ({ adapter }) => {
      const tokens = [
        refreshToken('h1', 'u_alice', 'd1', 10_000),
        refreshToken('h2', 'u_alice', 'd1', 10_000),
        refreshToken('h3', 'u_alice', 'd2', 10_000),
        refreshToken('h4', 'u_bob', 'd1', 10_000),
      ];
      for (const token of tokens) await adapter.accounts.saveRefreshToken(token);
      await adapter.accounts.revokeRefreshTokens('u_alice', 'd1');
      expect(await adapter.accounts.takeRefreshToken('h1', 0)).toBeUndefined();
      expect(await adapter.accounts.takeRefreshToken('h2', 0)).toBeUndefined();
      expect(await adapter.accounts.takeRefreshToken('h3', 0)).toEqual(tokens[2]);
      expect(await adapter.accounts.takeRefreshToken('h4', 0)).toEqual(tokens[3]);
    },
  ),

  revokeUser: defineCheck(
    'refresh tokens',
    "revokeRefreshTokens without a device revokes all of the user's tokens and no one else's",
    async ({ adapter }) => {
      const bobs = refreshToken('h3', 'u_bob', 'd1', 10_000);
      await adapter.accounts.saveRefreshToken(refreshToken('h1', 'u_alice', 'd1', 10_000));
      await adapter.accounts.saveRefreshToken(refreshToken('h2', 'u_alice', 'd2', 10_000));
      await adapter.accounts.saveRefreshToken(bobs);
      await adapter.accounts.revokeRefreshTokens('u_alice');
      expect(await adapter.accounts.takeRefreshToken('h1', 0)).toBeUndefined();
      expect(await adapter.accounts.takeRefreshToken('h2', 0)).toBeUndefined();
      expect(await adapter.accounts.takeRefreshToken('h3', 0)).toEqual(bobs);
    },
  ),

  revocations: defineCheck(
    'session revocations',
    'revokedBefore answers the greatest issuedBefore of the live revocations of the subjects, 0 for none',
    async ({ adapter }) => {
      const { accounts } = adapter;
      expect(await accounts.revokedBefore(['s:sess1', 'u:u_alice'], 1_000)).toBe(0);
      await accounts.addRevocation({ subject: 's:sess1', issuedBefore: 9_000_000, expiresAt: 50_000 }, 1_000);
      await accounts.addRevocation({ subject: 'u:u_alice', issuedBefore: 2_000, expiresAt: 40_000 }, 1_000);
      expect(await accounts.revokedBefore(['u:u_alice'], 1_000)).toBe(2_000);
      expect(await accounts.revokedBefore(['s:sess1', 'u:u_alice'], 1_000)).toBe(9_000_000);
      expect(await accounts.revokedBefore(['s:sess2', 'u:u_bob'], 1_000)).toBe(0);
      // Past its expiry a revocation no longer counts.
      expect(await accounts.revokedBefore(['s:sess1', 'u:u_alice'], 45_000)).toBe(9_000_000);
      expect(await accounts.revokedBefore(['u:u_alice'], 40_000)).toBe(0);
      expect(await accounts.revokedBefore(['s:sess1'], 50_000)).toBe(0);
    },
  ),

  revocationNeverShrinks: defineCheck(
    'session revocations',
    'a subject revoked again keeps the later issuedBefore and the later expiresAt',
    async ({ adapter }) => {
      const { accounts } = adapter;
      await accounts.addRevocation({ subject: 'u:u_alice', issuedBefore: 5_000, expiresAt: 60_000 }, 1_000);
      await accounts.addRevocation({ subject: 'u:u_alice', issuedBefore: 3_000, expiresAt: 20_000 }, 2_000);
      expect(await accounts.revokedBefore(['u:u_alice'], 30_000)).toBe(5_000);
      await accounts.addRevocation({ subject: 'u:u_alice', issuedBefore: 8_000, expiresAt: 10_000 }, 3_000);
      expect(await accounts.revokedBefore(['u:u_alice'], 30_000)).toBe(8_000);
    },
  ),

  revocationsOutliveDroppedOnes: defineCheck(
    'session revocations',
    'adding a revocation after others expired keeps the live ones',
    async ({ adapter }) => {
      const { accounts } = adapter;
      await accounts.addRevocation({ subject: 's:old', issuedBefore: 1, expiresAt: 2_000 }, 1_000);
      await accounts.addRevocation({ subject: 's:live', issuedBefore: 7, expiresAt: 90_000 }, 1_000);
      await accounts.addRevocation({ subject: 's:new', issuedBefore: 9, expiresAt: 90_000 }, 5_000);
      expect(await accounts.revokedBefore(['s:old'], 5_000)).toBe(0);
      expect(await accounts.revokedBefore(['s:live'], 5_000)).toBe(7);
      expect(await accounts.revokedBefore(['s:new'], 5_000)).toBe(9);
    },
  ),
};
