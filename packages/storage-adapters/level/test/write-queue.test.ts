import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchOperation, LevelDb } from '../src/staging.js';
import { WriteQueue } from '../src/write-queue.js';

let dir: string;
let db: LevelDb;
let commits: BatchOperation[][];
let failNextCommit: Error | undefined;

/** A queue over a real database whose commits are recorded (and can be made to fail). */
function queue(maxBatchSize = 256): WriteQueue {
  return new WriteQueue(
    db,
    async (operations) => {
      commits.push(operations);
      if (failNextCommit) {
        const error = failNextCommit;
        failNextCommit = undefined;
        throw error;
      }
      await db.batch(operations);
    },
    maxBatchSize,
  );
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-level-queue-'));
  db = new Level<string, unknown>(dir, { keyEncoding: 'utf8', valueEncoding: 'json' });
  await db.open();
  commits = [];
  failNextCommit = undefined;
});

afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('WriteQueue', () => {
  it('commits the calls made in the same tick in one db.batch', async () => {
    const q = queue();
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        q.enqueue(async (view) => {
          view.put(`k${n}`, n);
          return n * 10;
        }),
      ),
    );
    expect(results).toEqual([10, 20, 30]);
    expect(commits).toHaveLength(1);
    expect(commits[0]!.map((op) => op.key)).toEqual(['k1', 'k2', 'k3']);
    expect(await db.getMany(['k1', 'k2', 'k3'])).toEqual([1, 2, 3]);
  });

  it("lets a call read the staged changes of the calls before it, and never another batch's", async () => {
    const q = queue();
    const seen = await Promise.all([
      q.enqueue(async (view) => {
        view.put('counter', 1);
        return view.get('counter');
      }),
      q.enqueue(async (view) => {
        const before = await view.get<number>('counter');
        view.put('counter', (before ?? 0) + 1);
        return before;
      }),
    ]);
    expect(seen).toEqual([1, 1]);
    // Outside the queue nothing was visible before the commit; now the last value is.
    expect(await db.get('counter')).toBe(2);
  });

  it('drops the changes of a throwing call and rejects only that call', async () => {
    const q = queue();
    const failure = new Error('boom');
    const results = await Promise.allSettled([
      q.enqueue(async (view) => view.put('a', 1)),
      q.enqueue(async (view) => {
        view.put('b', 2);
        view.del('a');
        throw failure;
      }),
      q.enqueue(async (view) => ({ a: await view.get('a'), b: await view.get('b') })),
    ]);
    expect(results).toEqual([
      { status: 'fulfilled', value: undefined },
      { status: 'rejected', reason: failure },
      { status: 'fulfilled', value: { a: 1, b: undefined } },
    ]);
    expect(commits).toEqual([[{ type: 'put', key: 'a', value: 1 }]]);
  });

  it('settles a call only after its batch is written', async () => {
    const q = queue();
    const order: string[] = [];
    const pending = q.enqueue(async (view) => view.put('x', 1)).then(() => order.push('settled'));
    await Promise.resolve();
    order.push(`written: ${String(await db.get('x'))}`);
    await pending;
    order.push(`written: ${String(await db.get('x'))}`);
    expect(order).toEqual(['written: undefined', 'settled', 'written: 1']);
  });

  it('rejects every call of a batch whose write fails, each failed call with its own error, and goes on', async () => {
    const q = queue();
    failNextCommit = new Error('disk full');
    const own = new Error('own');
    const results = await Promise.allSettled([
      q.enqueue(async (view) => view.put('a', 1)),
      q.enqueue(async () => {
        throw own;
      }),
    ]);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ message: 'disk full' });
    expect((results[1] as PromiseRejectedResult).reason).toBe(own);
    expect(await db.get('a')).toBeUndefined();
    await expect(q.enqueue(async (view) => view.put('a', 2))).resolves.toBeUndefined();
    expect(await db.get('a')).toBe(2);
  });

  it('bounds a batch by maxBatchSize and skips empty batches', async () => {
    const q = queue(2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => q.enqueue(async (view) => view.put(`k${n}`, n))));
    expect(commits.map((ops) => ops.length)).toEqual([2, 2, 1]);
    await q.enqueue(async (view) => view.get('k1'));
    expect(commits).toHaveLength(3);
  });

  it('runs calls queued during a batch in the next batch, in call order', async () => {
    const q = queue();
    const order: string[] = [];
    let later: Promise<unknown> | undefined;
    await q.enqueue(async (view) => {
      order.push('first');
      view.put('a', 1);
      later = q.enqueue(async (next) => void order.push(`second sees ${String(await next.get('a'))}`));
    });
    await later;
    expect(order).toEqual(['first', 'second sees 1']);
  });
});
