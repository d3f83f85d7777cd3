import { expect } from 'vitest';
import { defineCheck, type PresenceCheckContext } from '../harness.js';

const check = (
  group: string,
  title: string,
  run: (context: PresenceCheckContext) => Promise<void>,
  requires?: (context: PresenceCheckContext) => boolean,
) => defineCheck<PresenceCheckContext>(group, title, run, requires);

const shared = (c: PresenceCheckContext) => c.another !== undefined;
const GRACE = 30_000;
const T = 1_700_000_000_000;

/** Every check of the PresenceStore contract, by name. */
export const presenceChecks = {
  cameOnline: check(
    'touch',
    'the first beat of a user reports them as come online, later beats do not',
    async (c) => {
      const [u, v] = [c.user(), c.user()];
      expect(await c.store.touch([{ userId: u, deviceKey: 'd1', at: T }], GRACE)).toEqual([u]);
      expect(await c.store.touch([{ userId: u, deviceKey: 'd1', at: T + 1 }], GRACE)).toEqual([]);
      expect(await c.store.touch([{ userId: u, deviceKey: 'd2', at: T + 2 }], GRACE)).toEqual([]);
      const both = await c.store.touch(
        [
          { userId: v, deviceKey: 'a', at: T },
          { userId: v, deviceKey: 'b', at: T },
          { userId: u, deviceKey: 'd1', at: T + 3 },
        ],
        GRACE,
      );
      expect(both, 'a user with two beats in one call is reported once').toEqual([v]);
    },
  ),

  liveSince: check(
    'get',
    'get reports the newest beat of any device, status and last activity',
    async (c) => {
      const u = c.user();
      await c.store.touch(
        [
          { userId: u, deviceKey: 'phone', at: T + 10 },
          { userId: u, deviceKey: 'laptop', at: T + 20 },
        ],
        GRACE,
      );
      // An older beat never moves a device back in time.
      await c.store.touch([{ userId: u, deviceKey: 'laptop', at: T + 5 }], GRACE);
      const [record] = await c.store.get([u]);
      expect(record).toEqual({ userId: u, liveSince: T + 20, status: 'online', lastActiveAt: T + 20 });
    },
  ),

  unknown: check('get', 'get answers for unknown users in the order asked', async (c) => {
    const [u, v] = [c.user(), c.user()];
    await c.store.touch([{ userId: v, deviceKey: 'd', at: T }], GRACE);
    const records = await c.store.get([u, v, u]);
    expect(records.map((r) => r.userId)).toEqual([u, v, u]);
    expect(records[0]).toEqual({ userId: u, liveSince: null, status: 'online', lastActiveAt: null });
    expect(await c.store.get([])).toEqual([]);
  }),

  expire: check(
    'expire',
    'expire reports a user once, when every device is older than the cutoff',
    async (c) => {
      const [u, v] = [c.user(), c.user()];
      await c.store.touch(
        [
          { userId: u, deviceKey: 'phone', at: T },
          { userId: u, deviceKey: 'laptop', at: T + 100 },
          { userId: v, deviceKey: 'x', at: T + 300 },
        ],
        GRACE,
      );
      const mine = (list: Array<{ userId: string }>) => list.filter((e) => e.userId === u || e.userId === v);
      expect(mine(await c.store.expire(T + 50)), 'the laptop is still live').toEqual([]);
      expect(mine(await c.store.expire(T + 200))).toEqual([{ userId: u, lastActiveAt: T + 100 }]);
      expect(mine(await c.store.expire(T + 200)), 'never reported twice').toEqual([]);
      const [record] = await c.store.get([u]);
      expect(record?.liveSince).toBeNull();
      expect(record?.lastActiveAt, 'last activity survives going offline').toBe(T + 100);
      expect(await c.store.touch([{ userId: u, deviceKey: 'phone', at: T + 400 }], GRACE)).toEqual([u]);
    },
  ),

  drop: check('drop', 'drop forgets a device at once, and a dropped user is not expired later', async (c) => {
    const u = c.user();
    await c.store.touch(
      [
        { userId: u, deviceKey: 'phone', at: T },
        { userId: u, deviceKey: 'laptop', at: T + 50 },
      ],
      GRACE,
    );
    await c.store.drop(u, 'laptop');
    expect((await c.store.get([u]))[0]?.liveSince).toBe(T);
    await c.store.drop(u, 'phone');
    expect((await c.store.get([u]))[0]?.liveSince).toBeNull();
    await c.store.drop(u, 'never-seen');
    const expired = await c.store.expire(T + 1_000);
    expect(expired.filter((e) => e.userId === u)).toEqual([]);
    expect(await c.store.touch([{ userId: u, deviceKey: 'phone', at: T + 2_000 }], GRACE)).toEqual([u]);
  }),

  dropKeepsExpiry: check(
    'drop',
    'after dropping the newest device, the rest expire on their own time',
    async (c) => {
      const u = c.user();
      await c.store.touch(
        [
          { userId: u, deviceKey: 'old', at: T },
          { userId: u, deviceKey: 'new', at: T + 1_000 },
        ],
        GRACE,
      );
      await c.store.drop(u, 'new');
      const expired = await c.store.expire(T + 10);
      expect(expired.filter((e) => e.userId === u).map((e) => e.userId)).toEqual([u]);
    },
  ),

  status: check(
    'status',
    'status is kept, and an invisible user’s last activity stops advancing',
    async (c) => {
      const u = c.user();
      await c.store.setStatus(u, 'away');
      expect((await c.store.get([u]))[0]?.status).toBe('away');
      await c.store.touch([{ userId: u, deviceKey: 'd', at: T }], GRACE);
      await c.store.setStatus(u, 'invisible');
      await c.store.touch([{ userId: u, deviceKey: 'd', at: T + 500 }], GRACE);
      const [record] = await c.store.get([u]);
      expect(record).toEqual({ userId: u, liveSince: T + 500, status: 'invisible', lastActiveAt: T });
      await c.store.setStatus(u, 'online');
      await c.store.touch([{ userId: u, deviceKey: 'd', at: T + 900 }], GRACE);
      expect((await c.store.get([u]))[0]?.lastActiveAt).toBe(T + 900);
    },
  ),

  sharedView: check(
    'across nodes',
    'a beat written on one node is seen by another, which can expire it',
    async (c) => {
      const other = await c.another!();
      try {
        const u = c.user();
        await c.store.touch([{ userId: u, deviceKey: 'd', at: T }], GRACE);
        expect((await other.get([u]))[0]?.liveSince).toBe(T);
        expect(await other.touch([{ userId: u, deviceKey: 'e', at: T + 1 }], GRACE)).toEqual([]);
        const expired = await other.expire(T + 10);
        expect(expired.filter((e) => e.userId === u)).toEqual([{ userId: u, lastActiveAt: T + 1 }]);
      } finally {
        await other.close?.();
      }
    },
    shared,
  ),

  expireClaimsOnce: check(
    'across nodes',
    'concurrent expire calls on two nodes report each user exactly once',
    async (c) => {
      const other = await c.another!();
      try {
        const users = Array.from({ length: 50 }, () => c.user());
        await c.store.touch(
          users.map((userId, i) => ({ userId, deviceKey: 'd', at: T + i })),
          GRACE,
        );
        const rounds = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? c.store : other).expire(T + 1_000)),
        );
        const mine = new Set(users);
        const reported = rounds.flat().filter((e) => mine.has(e.userId));
        expect(reported.map((e) => e.userId).sort()).toEqual([...users].sort());
      } finally {
        await other.close?.();
      }
    },
    shared,
  ),

  touchClaimsOnce: check(
    'across nodes',
    'concurrent first beats on two nodes report the user as come online exactly once',
    async (c) => {
      const other = await c.another!();
      try {
        const users = Array.from({ length: 30 }, () => c.user());
        const rounds = await Promise.all(
          [c.store, other, c.store, other].map((store, i) =>
            store.touch(
              users.map((userId) => ({ userId, deviceKey: `dev${i}`, at: T })),
              GRACE,
            ),
          ),
        );
        expect(rounds.flat().sort()).toEqual([...users].sort());
      } finally {
        await other.close?.();
      }
    },
    shared,
  ),
};

/** Names of the presence store checks. */
export type PresenceCheckName = keyof typeof presenceChecks;
