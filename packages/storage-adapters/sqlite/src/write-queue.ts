/**
 * Group commit. Concurrent write calls queue up; one writer loop drains the queue in batches, each
 * batch one transaction, so the calls share a single commit (and a single fsync), and a failing call
 * rolls back alone. No call is acknowledged before its batch is durable.
 *
 * Savepoints only when needed: a batch first runs its calls without any (a SAVEPOINT per call cost
 * more than a chat append's own inserts). A call that throws before it wrote anything (it reports its
 * writes through `markWritten`) simply fails. When a call throws after writing, or the COMMIT fails,
 * the whole transaction is rolled back and the batch runs again with one savepoint per call, so the
 * failing call rolls back alone; write functions may run more than once (the storage port says so).
 *
 * Durability off the event loop: when the connection has a `flush` (the SQLite adapter's fsync of the
 * WAL file, run on libuv's thread pool), a batch's calls settle only after the flush that follows its
 * COMMIT. While that flush runs, the next batch already executes its statements (pipelining), but its
 * COMMIT waits for the flush, and reads gated by {@link WriteQueue.read} wait for it too: nothing a
 * reader can observe is ever less durable than what a sender was acknowledged.
 */

/** The transaction control the queue needs; the SQLite adapter runs these on its write connection. */
export interface BatchConnection {
  /** `BEGIN IMMEDIATE`: takes the write lock up front, so the batch cannot fail to upgrade later. */
  begin(): void;
  savepoint(): void;
  release(): void;
  /** `ROLLBACK TO` the call's savepoint, then release it. */
  rollbackToSavepoint(): void;
  commit(): void;
  /** Rolls the whole transaction back if one is open. */
  rollbackAll(): void;
  /**
   * Makes every commit so far durable without blocking the event loop (e.g. an fsync on the thread
   * pool). Absent when COMMIT itself is as durable as wanted.
   */
  flush?(): Promise<void>;
}

/** A queued call's body. It calls `markWritten` before its first write (a conservative mark is fine). */
export type CallBody<T> = (markWritten: () => void) => Promise<T>;

/** One queued call. */
export interface QueuedCall {
  run: CallBody<unknown>;
  /** Calls of one channel are committed next to each other; see {@link orderBatch}. */
  channelId: string | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The transaction control failed: every call of the batch fails (with its own error if it had one). */
class Failure {
  constructor(
    readonly error: unknown,
    readonly partial: readonly Outcome[],
  ) {}
}

/**
 * Orders one batch so that calls of the same channel sit next to each other (their rows then land
 * next to each other in the (channel_id, seq) index, which is what makes batching pay).
 * Calls of one channel keep their call order, and a call without a channel is a barrier: nothing
 * moves across it, so such calls keep their order relative to every other call.
 */
export function orderBatch<T extends { channelId: string | undefined }>(calls: readonly T[]): T[] {
  const ordered: T[] = [];
  let segment = new Map<string, T[]>();
  const flush = () => {
    for (const group of segment.values()) ordered.push(...group);
    segment = new Map();
  };
  for (const call of calls) {
    if (call.channelId === undefined) {
      flush();
      ordered.push(call);
      continue;
    }
    const group = segment.get(call.channelId);
    if (group) group.push(call);
    else segment.set(call.channelId, [call]);
  }
  flush();
  return ordered;
}

/** The queue and its single writer loop. */
export class WriteQueue {
  private readonly pending: QueuedCall[] = [];
  private draining: Promise<void> | undefined;
  /** The flush of the last COMMIT while it runs; reads and the next COMMIT wait for it. */
  private flushing: Promise<void> | undefined;
  /** Reads waiting for the running flush; run synchronously the moment it completes. */
  private readonly waitingReads: Array<() => void> = [];

  /** When the last batch started (performance.now()), for {@link commitIntervalMs}. */
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly connection: BatchConnection,
    private readonly maxBatchSize: number,
    /** Least time between two batches' starts, ms (SqliteStorageOptions.commitIntervalMs). */
    private readonly commitIntervalMs = 0,
  ) {}

  /** Queues `run`; settles after the batch holding it is durable (or with the call's own error). */
  enqueue<T>(run: CallBody<T>, channelId?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, channelId, resolve: resolve as (value: unknown) => void, reject });
      // Start after the current I/O phase (setImmediate, not a microtask): sends arriving in separate socket
      // callbacks of one event-loop turn then share a batch, one BEGIN/COMMIT and one fsync for all of them.
      // A microtask started a batch per callback, so under socket load every batch held one message.
      // A batch started less than commitIntervalMs ago: this one waits for the rest of the interval.
      this.draining ??= this.turn().then(() => this.drain());
    });
  }

  /**
   * Runs a read of committed state once that state is durable: at once when no flush is running,
   * else the moment the running flush completes (before any later COMMIT can happen). `read` must be
   * synchronous, so it sees exactly the state that was flushed.
   */
  read<T>(read: () => T): Promise<T> {
    if (!this.flushing) {
      try {
        return Promise.resolve(read());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.waitingReads.push(() => {
        try {
          resolve(read());
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** Resolves once the queue is empty, no batch is running and the last commit is durable. */
  async idle(): Promise<void> {
    while (this.draining || this.flushing) await (this.draining ?? this.flushing);
  }

  /** After the current I/O phase, and no sooner than commitIntervalMs after the last batch started. */
  private turn(): Promise<void> {
    const wait = this.lastStart + this.commitIntervalMs - performance.now();
    return new Promise<void>((resolve) =>
      wait >= 1 ? setTimeout(resolve, Math.ceil(wait)) : setImmediate(resolve),
    );
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        if (this.lastStart + this.commitIntervalMs > performance.now()) await this.turn();
        this.lastStart = performance.now();
        const batch = orderBatch(this.pending.splice(0, this.maxBatchSize));
        await this.runBatch(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async runBatch(batch: readonly QueuedCall[]): Promise<void> {
    // With savepoints the attempt always ends in outcomes or a Failure; `undefined` cannot come back.
    const outcomes = (await this.attempt(batch, false)) ?? (await this.attempt(batch, true));
    if (outcomes === undefined || outcomes instanceof Failure) {
      const failure = outcomes ?? new Failure(new Error('write batch could not run'), []);
      batch.forEach((call, i) => {
        const outcome = failure.partial[i];
        call.reject(outcome && !outcome.ok ? outcome.error : failure.error);
      });
      return;
    }
    const settle = (flushError?: unknown) =>
      batch.forEach((call, i) => {
        const outcome = outcomes[i]!;
        if (flushError !== undefined && outcome.ok) call.reject(flushError);
        else if (outcome.ok) call.resolve(outcome.value);
        else call.reject(outcome.error);
      });
    if (!this.connection.flush) {
      settle();
      return;
    }
    // Not awaited: the next batch runs its statements while this one is flushed.
    this.flushing = this.connection.flush().then(
      () => this.flushed(() => settle()),
      (error: unknown) => this.flushed(() => settle(error ?? new Error('flush failed'))),
    );
  }

  /**
   * Runs the batch in one transaction and commits it. Without savepoints, returns undefined when the
   * batch must run again with them (a call failed after writing, or the COMMIT failed); with them,
   * a failure of the transaction control itself is returned as a {@link Failure}.
   */
  private async attempt(
    batch: readonly QueuedCall[],
    savepoints: boolean,
  ): Promise<Outcome[] | Failure | undefined> {
    const outcomes: Outcome[] = [];
    try {
      this.connection.begin();
      for (const call of batch) {
        const outcome = savepoints ? await this.runInSavepoint(call) : await this.runBare(call);
        if (!outcome) {
          this.rollback();
          return undefined;
        }
        outcomes.push(outcome);
      }
      // The previous batch must be durable before this one becomes visible to readers.
      if (this.flushing) await this.flushing;
      this.connection.commit();
      return outcomes;
    } catch (error) {
      // BEGIN, a savepoint statement or COMMIT failed: nothing of the batch is durable.
      this.rollback();
      return savepoints ? new Failure(error, outcomes) : undefined;
    }
  }

  private rollback(): void {
    try {
      this.connection.rollbackAll();
    } catch {
      // The connection already rolled back; the original error is the one to report.
    }
  }

  /** Runs one call without a savepoint; undefined when it failed after writing (the batch must rerun). */
  private async runBare(call: QueuedCall): Promise<Outcome | undefined> {
    let wrote = false;
    try {
      const markWritten = () => {
        wrote = true;
      };
      return { ok: true, value: await call.run(markWritten) };
    } catch (error) {
      return wrote ? undefined : { ok: false, error };
    }
  }

  /** A flush ended: serve the reads that waited for it, then settle its calls. */
  private flushed(settle: () => void): void {
    this.flushing = undefined;
    for (const read of this.waitingReads.splice(0)) read();
    settle();
  }

  /** Runs one call in its own savepoint. Throws only when the transaction control itself fails. */
  private async runInSavepoint(call: QueuedCall): Promise<Outcome> {
    this.connection.savepoint();
    let value: unknown;
    try {
      value = await call.run(() => undefined);
    } catch (error) {
      this.connection.rollbackToSavepoint();
      return { ok: false, error };
    }
    this.connection.release();
    return { ok: true, value };
  }
}
