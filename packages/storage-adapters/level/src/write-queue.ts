/**
 * Group commit for LevelDB. Concurrent write calls queue up; one writer loop takes a batch of them
 * and runs each against a {@link StagedView} (reads see the committed database plus the changes of
 * the calls before it in the batch). A call that throws has its changes dropped and only its promise
 * rejects; the changes of every call that succeeded are written in ONE `db.batch()`, which LevelDB
 * applies atomically, with `sync` when durability asks for it. No call settles before that write.
 */
import { type BatchOperation, Changes, type LevelDb, StagedView } from './staging.js';

/** One queued call. */
interface QueuedCall {
  run: (view: StagedView) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Writes one batch of operations; the adapter passes `db.batch(ops, { sync })`. */
export type CommitBatch = (operations: BatchOperation[]) => Promise<void>;

/** The queue and its single writer loop. Calls run one at a time, in call order. */
export class WriteQueue {
  private readonly pending: QueuedCall[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly db: LevelDb,
    private readonly commit: CommitBatch,
    private readonly maxBatchSize: number,
  ) {}

  /** Queues `run`; settles after the batch holding it is written (or with the call's own error). */
  enqueue<T>(run: (view: StagedView) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      // Start on a microtask so calls made in the same tick share the first batch.
      this.draining ??= Promise.resolve().then(() => this.drain());
    });
  }

  /** Resolves once the queue is empty and no batch is running. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.runBatch(this.pending.splice(0, this.maxBatchSize));
    } finally {
      this.draining = undefined;
    }
  }

  private async runBatch(batch: readonly QueuedCall[]): Promise<void> {
    const changes = new Changes();
    const outcomes: Outcome[] = [];
    for (const call of batch) {
      const view = new StagedView(this.db, changes);
      try {
        const value = await call.run(view);
        changes.absorb(view.own);
        outcomes.push({ ok: true, value });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    try {
      if (changes.size > 0) await this.commit(changes.operations());
    } catch (error) {
      // Nothing of the batch was written: every call fails, a failed call with its own error.
      batch.forEach((call, i) => {
        const outcome = outcomes[i]!;
        call.reject(outcome.ok ? error : outcome.error);
      });
      return;
    }
    batch.forEach((call, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) call.resolve(outcome.value);
      else call.reject(outcome.error);
    });
  }
}
