import type { ModerationEntry, ModerationReads, StorageAdapter } from '@natter/server-core';
import { BlockList } from '@natter/server-core/internals';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** The store's real reads, with the prefixes they were asked for written down (and a failure on demand). */
function recording(reads: ModerationReads) {
  const listed: string[] = [];
  let failNext = false;
  const recorded: ModerationReads & { listed: string[]; failNextList(): void } = {
    listed,
    failNextList: () => {
      failNext = true;
    },
    get: (key) => reads.get(key),
    async list(prefix, after, limit): Promise<ModerationEntry[]> {
      listed.push(prefix);
      if (failNext) {
        failNext = false;
        throw new Error('store unavailable');
      }
      return reads.list(prefix, after, limit);
    },
  };
  return recorded;
}

describe('BlockList cache', () => {
  let storage: StorageAdapter;

  beforeEach(async () => {
    storage = createMemoryStorage();
    await storage.open();
    for (const id of ['alice', 'bob', 'carol'])
      await storage.accounts.createUser({
        id,
        username: id,
        displayName: id,
        passwordHash: null,
        createdAt: 1,
      });
  });
  afterEach(async () => {
    await storage.close();
  });

  const block = (blockerId: string, blockedId: string) =>
    storage.chat.write(async (tx) => {
      const record = { kind: 'block' as const, blockerId, blockedId, createdAt: 2 };
      await tx.moderation!.put(`block/${blockerId}/${blockedId}`, record);
      await tx.moderation!.put(`blockedby/${blockedId}/${blockerId}`, record);
    });

  it('a 1-1 check reads only whom the recipient blocked, once for all the checks that arrive meanwhile', async () => {
    await block('bob', 'alice');
    const reads = recording(storage.chat.moderation!);
    const blocks = new BlockList({ reads, accounts: storage.accounts, now: Date.now });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => blocks.refusesDirect('bob', i % 2 === 0 ? 'alice' : 'carol')),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => i % 2 === 0));
    expect(reads.listed).toEqual(['block/bob/']);
  });

  it('presence reads both directions, and a forget makes the next check read the store again', async () => {
    const reads = recording(storage.chat.moderation!);
    const blocks = new BlockList({ reads, accounts: storage.accounts, now: Date.now });
    expect(await blocks.refusesDirect('bob', 'alice')).toBe(false);
    await block('bob', 'alice');
    // Cached within the TTL until this node forgets the users whose relations changed.
    expect(await blocks.refusesDirect('bob', 'alice')).toBe(false);
    blocks.forget('bob', 'alice');
    expect(await blocks.refusesDirect('bob', 'alice')).toBe(true);
    expect([...(await blocks.hiddenFrom('alice'))]).toEqual(['bob']);
    expect(reads.listed.sort()).toEqual(['block/alice/', 'block/bob/', 'block/bob/', 'blockedby/alice/']);
  });

  it('a failed read is not kept: the next check reads again', async () => {
    await block('bob', 'alice');
    const reads = recording(storage.chat.moderation!);
    const blocks = new BlockList({ reads, accounts: storage.accounts, now: Date.now });
    reads.failNextList();
    await expect(blocks.refusesDirect('bob', 'alice')).rejects.toThrow('store unavailable');
    expect(await blocks.refusesDirect('bob', 'alice')).toBe(true);
    expect(reads.listed).toEqual(['block/bob/', 'block/bob/']);
  });

  it('a view older than the TTL is read again', async () => {
    let now = 1_000;
    const reads = recording(storage.chat.moderation!);
    const blocks = new BlockList({ reads, accounts: storage.accounts, now: () => now, ttlMs: 2_000 });
    expect(await blocks.refusesDirect('bob', 'alice')).toBe(false);
    await block('bob', 'alice');
    now += 1_999;
    expect(await blocks.refusesDirect('bob', 'alice')).toBe(false);
    now += 1;
    expect(await blocks.refusesDirect('bob', 'alice')).toBe(true);
    expect(reads.listed).toEqual(['block/bob/', 'block/bob/']);
  });
});
