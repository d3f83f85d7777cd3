import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaRecord, MediaStore } from '../../src/index.js';

let counter = 0;
const key = (n: number) => n.toString(16).padStart(64, '0');

/** A new unattached record of `ownerId`. */
export function record(ownerId: string, overrides: Partial<MediaRecord> = {}): MediaRecord {
  counter++;
  return {
    id: `m_${counter}_${Math.random().toString(36).slice(2, 8)}`,
    ownerId,
    kind: 'image',
    mime: 'image/png',
    size: 1000,
    sha256: key(counter),
    sourceSha256: key(1_000_000 + counter),
    filename: 'a.png',
    width: 640,
    height: 480,
    placeholder: 'abc=',
    thumbnails: [{ size: 320, width: 320, height: 240, blobKey: key(2_000_000 + counter), bytes: 10 }],
    blobKey: key(counter),
    createdAt: 1_000,
    attachment: { state: 'unattached' },
    ...overrides,
  };
}

/** The `MediaStore` contract, run against each adapter (`fresh` answers an empty, unopened store). */
export function mediaStoreContract(name: string, fresh: () => Promise<MediaStore>): void {
  describe(`MediaStore contract: ${name}`, () => {
    let store: MediaStore;
    beforeEach(async () => {
      store = await fresh();
      await store.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores and reads a record exactly, finds unattached uploads by source hash, sums usage', async () => {
      const a = record('u_ada');
      const b = record('u_ada', {
        size: 500,
        width: undefined,
        height: undefined,
        placeholder: undefined,
        thumbnails: [],
        kind: 'file',
      });
      delete b.width;
      delete b.height;
      delete b.placeholder;
      await store.insert(a);
      await store.insert(b);
      expect(await store.get(a.id)).toEqual(a);
      expect(await store.get(b.id)).toEqual(b);
      expect(await store.get('m_missing')).toBeUndefined();
      expect((await store.findUnattached('u_ada', a.sourceSha256))?.id).toBe(a.id);
      expect(await store.findUnattached('u_bob', a.sourceSha256)).toBeUndefined();
      expect(await store.usage('u_ada')).toBe(1500);
      expect(await store.usage('u_bob')).toBe(0);
    });

    it('claims all or none: owner only, once, again with the same token; commit, cancel', async () => {
      const a = record('u_ada');
      const b = record('u_ada');
      const bobs = record('u_bob');
      for (const r of [a, b, bobs]) await store.insert(r);
      expect(await store.claim('u_ada', [a.id, bobs.id], 'c1', 't1', 5)).toEqual({
        kind: 'notFound',
        mediaId: bobs.id,
      });
      expect((await store.get(a.id))?.attachment).toEqual({ state: 'unattached' });
      const claimed = await store.claim('u_ada', [a.id, b.id], 'c1', 't1', 5);
      expect(claimed.kind === 'claimed' && claimed.records.map((r) => r.id)).toEqual([a.id, b.id]);
      expect(await store.claim('u_ada', [b.id], 'c1', 't2', 6)).toEqual({ kind: 'taken', mediaId: b.id });
      expect((await store.claim('u_ada', [a.id, b.id], 'c1', 't1', 7)).kind).toBe('claimed');
      expect(await store.findUnattached('u_ada', a.sourceSha256)).toBeUndefined();
      await store.commit('t1', 42);
      expect((await store.get(a.id))?.attachment).toEqual({
        state: 'attached',
        channelId: 'c1',
        token: 't1',
        seq: 42,
      });
      await store.cancel('t1');
      expect((await store.get(a.id))?.attachment.state).toBe('attached');
      const c = record('u_ada');
      await store.insert(c);
      await store.claim('u_ada', [c.id], 'c1', 't3', 8);
      expect((await store.get(c.id))?.attachment).toEqual({
        state: 'claimed',
        channelId: 'c1',
        token: 't3',
        claimedAt: 8,
      });
      await store.cancel('t3');
      expect((await store.get(c.id))?.attachment).toEqual({ state: 'unattached' });
    });

    it('releaseMessage and sweepUnattached delete records and their blob references', async () => {
      const sent = record('u_ada', { createdAt: 1 });
      const twin = record('u_ada', { createdAt: 1, blobKey: sent.blobKey, sha256: sent.sha256 });
      const old = record('u_ada', { createdAt: 1 });
      const fresh2 = record('u_ada', { createdAt: 10_000 });
      for (const r of [sent, twin, old, fresh2]) await store.insert(r);
      await store.claim('u_ada', [sent.id], 'c1', 't1', 2);
      await store.commit('t1', 7);
      expect(await store.referencedKeys([sent.blobKey, old.blobKey, key(9_999_999)])).toEqual(
        new Set([sent.blobKey, old.blobKey]),
      );
      const released = await store.releaseMessage('c1', 7);
      expect(released.map((r) => r.id)).toEqual([sent.id]);
      expect(await store.get(sent.id)).toBeUndefined();
      // The twin still references the same bytes.
      expect(await store.referencedKeys([sent.blobKey])).toEqual(new Set([sent.blobKey]));
      const swept = await store.sweepUnattached(5_000, 10);
      expect(swept.map((r) => r.id).sort()).toEqual([twin.id, old.id].sort());
      expect(await store.referencedKeys([sent.blobKey, old.blobKey, old.thumbnails[0]!.blobKey])).toEqual(
        new Set(),
      );
      expect(await store.get(fresh2.id)).toBeDefined();
      expect(await store.releaseMessage('c1', 7)).toEqual([]);
    });

    it('reserves quota all or none, counts stored bytes and live reservations, forgets expired ones', async () => {
      const reserve = (id: string, bytes: number, expiresAt = 10_000, now = 1_000) =>
        store.reserve({ id, ownerId: 'u_quota', bytes, expiresAt }, 3_000, now);
      await store.insert(record('u_quota', { size: 1_000 }));
      expect(await reserve('r1', 1_500)).toBe(true);
      // 1,000 stored + 1,500 held + 600 > 3,000.
      expect(await reserve('r2', 600)).toBe(false);
      expect(await reserve('r2', 500)).toBe(true);
      // Another owner's quota is its own.
      expect(
        await store.reserve({ id: 'r9', ownerId: 'u_other', bytes: 3_000, expiresAt: 10_000 }, 3_000, 1_000),
      ).toBe(true);
      await store.release('r1');
      await store.release('r1');
      expect(await reserve('r3', 1_500)).toBe(true);
      // Expired reservations count no more.
      expect(await reserve('r4', 2_000, 20_000, 15_000)).toBe(true);
    });

    it("inserts within the quota only, dropping the upload's reservation in the same step", async () => {
      expect(
        await store.reserve({ id: 'rq', ownerId: 'u_q2', bytes: 2_000, expiresAt: 10_000 }, 2_500, 1_000),
      ).toBe(true);
      expect(await store.insertWithinQuota(record('u_q2', { size: 2_000 }), 2_500, 'rq')).toBe(true);
      // The reservation went with the insert: 2,000 stored, 500 free.
      expect(
        await store.reserve({ id: 'rr', ownerId: 'u_q2', bytes: 500, expiresAt: 10_000 }, 2_500, 1_000),
      ).toBe(true);
      await store.release('rr');
      const refused = record('u_q2', { size: 501 });
      expect(await store.insertWithinQuota(refused, 2_500)).toBe(false);
      expect(await store.get(refused.id)).toBeUndefined();
      expect(await store.usage('u_q2')).toBe(2_000);
    });

    it('never passes the quota with many inserts at once', async () => {
      const records = Array.from({ length: 12 }, () => record('u_race', { size: 1_000 }));
      const results = await Promise.all(records.map((r) => store.insertWithinQuota(r, 5_500)));
      expect(results.filter(Boolean)).toHaveLength(5);
      expect(await store.usage('u_race')).toBe(5_000);
    });
  });
}
