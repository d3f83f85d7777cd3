import { describe, expect, it } from 'vitest';
import { type BatchConnection, orderBatch, WriteQueue } from '../src/write-queue.js';

/** A fake connection that records the transaction control it receives. */
function recordingConnection(failOn?: keyof BatchConnection) {
  const log: string[] = [];
  const step = (name: keyof BatchConnection) => () => {
    log.push(name);
    if (name === failOn) throw new Error(`${name} failed`);
  };
  const connection: BatchConnection = {
    begin: step('begin'),
    savepoint: step('savepoint'),
    release: step('release'),
    rollbackToSavepoint: step('rollbackToSavepoint'),
    commit: step('commit'),
    rollbackAll: step('rollbackAll'),
  };
  return { connection, log };
}

describe('orderBatch', () => {
  const call = (name: string, channelId?: string) => ({ name, channelId });

  it('puts calls of one channel next to each other, keeping their call order', () => {
    const batch = [call('a1', 'a'), call('b1', 'b'), call('a2', 'a'), call('c1', 'c'), call('b2', 'b')];
    expect(orderBatch(batch).map((c) => c.name)).toEqual(['a1', 'a2', 'b1', 'b2', 'c1']);
  });

  it('never moves a call across a call without a channel', () => {
    const batch = [
      call('a1', 'a'),
      call('b1', 'b'),
      call('x'),
      call('a2', 'a'),
      call('b2', 'b'),
      call('a3', 'a'),
    ];
    expect(orderBatch(batch).map((c) => c.name)).toEqual(['a1', 'b1', 'x', 'a2', 'a3', 'b2']);
  });
});

describe('WriteQueue', () => {
  it('spaces batches by commitIntervalMs under a stream of writes, and starts an idle one at once', async () => {
    const starts: number[] = [];
    const { connection } = recordingConnection();
    const begin = connection.begin;
    connection.begin = () => {
      starts.push(performance.now());
      begin();
    };
    const queue = new WriteQueue(connection, 256, 20);
    const write = (n: number) =>
      queue.enqueue(async (markWritten) => {
        markWritten();
        return n;
      }, `c${n}`);
    // Idle: the first write's batch starts in the next turn, not after the interval.
    const t0 = performance.now();
    await write(0);
    expect(starts[0]! - t0).toBeLessThan(15);
    // A write every 2 ms for 100 ms: the batches start at least 20 ms apart and share the writes.
    const writes: Array<Promise<number>> = [];
    for (let i = 1; i <= 50; i++) {
      writes.push(write(i));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // Timers have whole-millisecond resolution on their own clock: allow one millisecond of it.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(18);
    expect(starts.length - 1).toBeLessThan(25);
  });

  it('commits calls made in the same tick in one transaction, without savepoints', async () => {
    const { connection, log } = recordingConnection();
    const queue = new WriteQueue(connection, 256);
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        queue.enqueue(async (markWritten) => {
          markWritten();
          return n * 10;
        }, 'c'),
      ),
    );
    expect(results).toEqual([10, 20, 30]);
    expect(log).toEqual(['begin', 'commit']);
  });

  it('rejects a call that failed before writing, and commits the others without a rerun', async () => {
    const { connection, log } = recordingConnection();
    const queue = new WriteQueue(connection, 256);
    const failure = new Error('not a member');
    let runs = 0;
    const results = await Promise.allSettled([
      queue.enqueue(async (markWritten) => {
        runs++;
        markWritten();
        return 'first';
      }),
      queue.enqueue(async () => {
        throw failure;
      }),
    ]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 'first' },
      { status: 'rejected', reason: failure },
    ]);
    expect(log).toEqual(['begin', 'commit']);
    expect(runs).toBe(1);
  });

  it('settles a call only after the COMMIT of its batch', async () => {
    const { connection, log } = recordingConnection();
    const queue = new WriteQueue(connection, 256);
    const seenAtSettle: string[][] = [];
    await Promise.all(
      [1, 2].map((n) => queue.enqueue(async () => n).then(() => void seenAtSettle.push([...log]))),
    );
    for (const seen of seenAtSettle) expect(seen.at(-1)).toBe('commit');
  });

  it('bounds a batch by maxBatchSize', async () => {
    const { connection, log } = recordingConnection();
    const queue = new WriteQueue(connection, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => queue.enqueue(async () => n)));
    expect(log.filter((s) => s === 'begin')).toHaveLength(3);
    expect(log.filter((s) => s === 'commit')).toHaveLength(3);
  });

  it('reruns the batch with savepoints when a call fails after writing, and rejects only that call', async () => {
    const { connection, log } = recordingConnection();
    const queue = new WriteQueue(connection, 256);
    const failure = new Error('boom');
    const results = await Promise.allSettled([
      queue.enqueue(async () => 'first'),
      queue.enqueue(async (markWritten) => {
        markWritten();
        throw failure;
      }),
      queue.enqueue(async () => 'third'),
    ]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 'first' },
      { status: 'rejected', reason: failure },
      { status: 'fulfilled', value: 'third' },
    ]);
    expect(log).toEqual([
      'begin',
      'rollbackAll',
      'begin',
      'savepoint',
      'release',
      'savepoint',
      'rollbackToSavepoint',
      'savepoint',
      'release',
      'commit',
    ]);
  });

  it('rejects every call of a batch whose COMMIT fails, each failed call with its own error', async () => {
    const { connection, log } = recordingConnection('commit');
    const queue = new WriteQueue(connection, 256);
    const own = new Error('own');
    const results = await Promise.allSettled([
      queue.enqueue(async () => 1),
      queue.enqueue(async () => {
        throw own;
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ message: 'commit failed' });
    expect((results[1] as PromiseRejectedResult).reason).toBe(own);
    expect(log.at(-1)).toBe('rollbackAll');
  });

  it('rejects the whole batch when BEGIN fails, and keeps serving later calls', async () => {
    let failBegin = true;
    const { connection } = recordingConnection();
    const begin = connection.begin;
    connection.begin = () => {
      if (failBegin) throw new Error('SQLITE_BUSY');
      begin();
    };
    const queue = new WriteQueue(connection, 256);
    await expect(queue.enqueue(async () => 1)).rejects.toThrow('SQLITE_BUSY');
    failBegin = false;
    await expect(queue.enqueue(async () => 2)).resolves.toBe(2);
  });

  it('runs calls queued during a batch in the next batch, in call order', async () => {
    const { connection, log } = recordingConnection();
    const queue = new WriteQueue(connection, 256);
    const order: string[] = [];
    let later: Promise<unknown> | undefined;
    await queue.enqueue(async () => {
      order.push('first');
      later = queue.enqueue(async () => void order.push('second'));
    });
    await later;
    expect(order).toEqual(['first', 'second']);
    expect(log.filter((s) => s === 'commit')).toHaveLength(2);
  });

  it('idle() resolves once everything queued has settled', async () => {
    const { connection } = recordingConnection();
    const queue = new WriteQueue(connection, 1);
    let done = 0;
    for (let i = 0; i < 5; i++) void queue.enqueue(async () => void done++);
    await queue.idle();
    expect(done).toBe(5);
  });
});

/** A recording connection whose flushes complete only when the test says so. */
function flushingConnection() {
  const { connection, log } = recordingConnection();
  const flushes: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  connection.flush = () =>
    new Promise<void>((resolve, reject) => {
      log.push('flush');
      flushes.push({ resolve, reject });
    });
  return { connection, log, flushes };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WriteQueue with a flush (durability off the event loop)', () => {
  it('settles a batch only after the flush that follows its COMMIT', async () => {
    const { connection, log, flushes } = flushingConnection();
    const queue = new WriteQueue(connection, 256);
    let settled = false;
    const call = queue
      .enqueue(async () => 'v')
      .then((v) => {
        settled = true;
        return v;
      });
    await turn();
    await turn();
    expect(log).toEqual(['begin', 'commit', 'flush']);
    expect(settled).toBe(false);
    flushes[0]!.resolve();
    await expect(call).resolves.toBe('v');
  });

  it('holds reads until the running flush is done, and runs them before the next COMMIT', async () => {
    const { connection, log, flushes } = flushingConnection();
    const queue = new WriteQueue(connection, 256);
    await expect(queue.read(() => 'at once')).resolves.toBe('at once');
    void queue.enqueue(async () => 1);
    await turn();
    await turn();
    expect(log.at(-1)).toBe('flush');
    const seen: string[] = [];
    const read = queue.read(() => {
      seen.push([...log].join(','));
      return 'after flush';
    });
    // The next batch runs its statements meanwhile, but does not commit.
    const second = queue.enqueue(async () => 2);
    await turn();
    await turn();
    expect(seen).toEqual([]);
    expect(log.filter((s) => s === 'commit')).toHaveLength(1);
    flushes[0]!.resolve();
    await expect(read).resolves.toBe('after flush');
    // The read saw one COMMIT: the durable one, not the batch waiting behind the flush.
    expect(seen[0]!.split(',').filter((s) => s === 'commit')).toHaveLength(1);
    await turn();
    expect(log.filter((s) => s === 'commit')).toHaveLength(2);
    flushes[1]!.resolve();
    await expect(second).resolves.toBe(2);
  });

  it('rejects the calls of a batch whose flush failed, and goes on with the next', async () => {
    const { connection, flushes } = flushingConnection();
    const queue = new WriteQueue(connection, 256);
    const call = queue.enqueue(async () => 1);
    await turn();
    await turn();
    flushes[0]!.reject(new Error('EIO'));
    await expect(call).rejects.toThrow('EIO');
    const next = queue.enqueue(async () => 2);
    await turn();
    await turn();
    flushes[1]!.resolve();
    await expect(next).resolves.toBe(2);
    await queue.idle();
  });
});
