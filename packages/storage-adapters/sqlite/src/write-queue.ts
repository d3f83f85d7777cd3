/**
 * Group commit. Concurrent write calls queue up; one writer loop drains the queue in batches, each
 * batch one transaction with one savepoint per call, so a failing call rolls back alone while the
 * others share a single commit (and a single fsync). No call is acknowledged before its COMMIT.
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
}

/** One queued call. */
export interface QueuedCall {
  run: () => Promise<unknown>;
  /** Calls of one channel are committed next to each other; see {@link orderBatch}. */
  channelId: string | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

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

  constructor(
    private readonly connection: BatchConnection,
    private readonly maxBatchSize: number,
  ) {}

  /** Queues `run`; settles after the batch holding it commits (or with the call's own error). */
  enqueue<T>(run: () => Promise<T>, channelId?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, channelId, resolve: resolve as (value: unknown) => void, reject });
      // Start after the current I/O phase (setImmediate, not a microtask): sends arriving in separate socket
      // callbacks of one event-loop turn then share a batch, one BEGIN/COMMIT and one fsync for all of them.
      // A microtask started a batch per callback, so under socket load every batch held one message.
      this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
    });
  }

  /** Resolves once the queue is empty and no batch is running. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = orderBatch(this.pending.splice(0, this.maxBatchSize));
        await this.runBatch(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async runBatch(batch: readonly QueuedCall[]): Promise<void> {
    const outcomes: Outcome[] = [];
    try {
      this.connection.begin();
      for (const call of batch) outcomes.push(await this.runInSavepoint(call));
      this.connection.commit();
    } catch (error) {
      // BEGIN, a savepoint statement or COMMIT failed: nothing of the batch is durable.
      try {
        this.connection.rollbackAll();
      } catch {
        // The connection already rolled back; the original error is the one to report.
      }
      batch.forEach((call, i) => {
        const outcome = outcomes[i];
        call.reject(outcome && !outcome.ok ? outcome.error : error);
      });
      return;
    }
    batch.forEach((call, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) call.resolve(outcome.value);
      else call.reject(outcome.error);
    });
  }

  /** Runs one call in its own savepoint. Throws only when the transaction control itself fails. */
  private async runInSavepoint(call: QueuedCall): Promise<Outcome> {
    this.connection.savepoint();
    let value: unknown;
    try {
      value = await call.run();
    } catch (error) {
      this.connection.rollbackToSavepoint();
      return { ok: false, error };
    }
    this.connection.release();
    return { ok: true, value };
  }
}
