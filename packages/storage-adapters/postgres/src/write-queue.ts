import type { WriteTransaction } from '@natter/server-core';
import type pg from 'pg';
import { BatchSession, type BeginStatements, type LockMode } from './batch-session.js';
import { exhausted, isRetryable, NeedsExclusive, NeedsTransaction } from './errors.js';
import type { Statements } from './statements.js';
import { PgWriteTransaction } from './write-transaction.js';

/**
 * Group commit for PostgreSQL. Concurrent `write()` calls of one process queue up; one writer loop
 * runs them in batches, each batch one transaction on one pooled connection, so the calls share the
 * round trips of BEGIN and COMMIT and one WAL flush, and a failing call rolls back alone. No call
 * settles before its batch committed.
 *
 * **Appends in one statement.** In a batch of several calls, a call's `appendMessage` or
 * `appendChecked` does not run at once: the call waits (parks) and the batch starts its next call.
 * When every call of the batch has run or parked, the parked appends run together in one
 * `append_group` call; a statement of another call flushes the appends queued before it first, so
 * statements keep the calls' order. A batch of N sends costs three round trips. A parked call that
 * uses its transaction again afterwards would run its statements after later calls' ones: it fails
 * with `OutOfTurn` and the batch runs again with savepoints, where every call runs in turn.
 *
 * **Savepoints only when needed** (as in the SQLite adapter). A batch first runs its calls bare. A
 * call that fails without having changed anything (no statement that wrote, no SQL error) simply
 * fails. When a call fails after writing, an SQL error aborted the transaction, or PostgreSQL aborted
 * it for a deadlock or lost race, the batch is rolled back and run again with one savepoint per call,
 * so each call fails alone; a call that hits a retryable error there is run again inside its savepoint.
 * Write functions may therefore run more than once (the storage port says so). A batch of one call is
 * simply run again.
 *
 * **The store's write lock** (an advisory lock keyed by the schema, taken at BEGIN) keeps writers of
 * several processes free of deadlocks. Shared by a batch of one call and by a batch of nothing but
 * grouped appends: a single append takes its channel's row lock and then its recipients' head locks in
 * user id order, and `append_group` takes all its channels' locks in id order and then all heads in
 * user id order, so these never wait on each other in a cycle. Exclusive for any other batch: its
 * calls take locks in no global order. A batch of one call that appends twice is rolled back and run
 * again exclusively.
 */
export class PgWriteQueue {
  private readonly pending: QueuedCall[] = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly deps: WriteQueueDeps) {}

  /**
   * Queues `fn`; settles after the batch holding it committed (or with the call's own error).
   * `appendOnly`: the function does nothing but one `appendChecked` (see `WriteHint.appendOnly`).
   */
  enqueue<T>(fn: (tx: WriteTransaction) => Promise<T>, appendOnly = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        fn,
        resolve: resolve as (value: unknown) => void,
        reject,
        appendOnly,
        attempts: 0,
      });
      // After the current I/O phase: sends arriving in separate socket callbacks of one event-loop turn
      // then share a batch (a microtask would start a batch per callback).
      this.draining ??= new Promise<void>((next) => setImmediate(next)).then(() => this.drain());
    });
  }

  /** Resolves once the queue is empty and no batch is running. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.deps.maxBatchSize);
        await this.runBatch(batch).catch((error: unknown) => {
          // Only the pool can fail here (no connection): every call of the batch fails with it.
          for (const call of batch) call.reject(error);
        });
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async runBatch(batch: readonly QueuedCall[]): Promise<void> {
    if (batch.every((call) => call.appendOnly)) return this.runAppendOnly(batch);
    if (batch.length === 1) return this.runAlone(batch[0]!);
    const bare = await this.withConnection((client) => this.attemptBare(client, batch));
    if (bare.kind === 'done') return settle(batch, bare.outcomes);
    if (bare.kind === 'failed') return failAll(batch, bare.error, []);
    for (let n = 1; ; n++) {
      const attempt = await this.withConnection((client) => this.attemptWithSavepoints(client, batch));
      if (attempt.kind === 'done') return settle(batch, attempt.outcomes);
      if (!isRetryable(attempt.error) || n >= this.deps.maxAttempts) {
        return failAll(batch, exhausted(attempt.error), attempt.outcomes);
      }
      await backoff(n);
    }
  }

  /**
   * A batch of nothing but `appendOnly` calls: their appends run as autocommit `append_group_alone`
   * statements (batch-session.ts), one round trip per group instead of BEGIN, the group and COMMIT. A
   * group commits by itself, so its calls settle as it returns; the calls of a group PostgreSQL
   * aborted (deadlock, a key taken meanwhile) go back to the head of the queue and run again
   * (bounded). A call that uses its transaction for anything else is stopped before that statement
   * runs: run again in a transaction when it had stored nothing yet (its hint was wrong), failed with
   * {@link NeedsTransaction} when its append had already committed.
   */
  private async runAppendOnly(batch: readonly QueuedCall[]): Promise<void> {
    const outcomes = await this.withConnection(async (client) => {
      const { sql, begins } = this.deps;
      const session = new BatchSession(client.client, sql, begins, () => 'shared', true);
      const calls = await startCalls(batch, session, sql, false);
      await session.flushAppends();
      const settled = await Promise.all(calls.map((c) => c.outcome));
      for (const { tx } of calls) tx.end();
      return settled.map((outcome, i) => ({ outcome, wrote: calls[i]!.tx.wrote }));
    });
    const again: QueuedCall[] = [];
    batch.forEach((call, i) => {
      const { outcome, wrote } = outcomes[i]!;
      if (outcome.ok) call.resolve(outcome.value);
      else if (wrote) call.reject(outcome.error);
      else if (outcome.error instanceof NeedsTransaction || outcome.error instanceof NeedsExclusive) {
        again.push({ ...call, appendOnly: false });
      } else if (isRetryable(outcome.error) && call.attempts + 1 < this.deps.maxAttempts) {
        again.push({ ...call, attempts: call.attempts + 1 });
      } else call.reject(exhausted(outcome.error));
    });
    if (again.length === 0) return;
    if (again.some((call) => call.attempts > 0)) await backoff(Math.max(...again.map((c) => c.attempts)));
    this.pending.unshift(...again);
  }

  /** A batch of one call: run bare, and again (bounded) when the failure is retryable. */
  private async runAlone(call: QueuedCall): Promise<void> {
    let exclusive = false;
    for (let n = 1; ; ) {
      const attempt = await this.withConnection((client) => this.attemptBare(client, [call], exclusive));
      if (attempt.kind === 'done') return settle([call], attempt.outcomes);
      const { error } = attempt;
      if (error instanceof NeedsExclusive && !exclusive) {
        // Not a failed attempt: the write only learned it must run alone (once).
        exclusive = true;
        continue;
      }
      if (!isRetryable(error) || n >= this.deps.maxAttempts) return call.reject(exhausted(error));
      await backoff(n++);
    }
  }

  /**
   * Runs the calls without savepoints. `done` when every call succeeded or failed without leaving
   * anything (then committed); `rerun` when the batch must run again with savepoints (rolled back);
   * `failed` when BEGIN or COMMIT failed for a reason that running again would not change, or the
   * outcome of a COMMIT is unknown (the connection broke during it).
   */
  private async attemptBare(
    client: ClientHandle,
    batch: readonly QueuedCall[],
    exclusiveRequired = false,
  ): Promise<BareAttempt> {
    let allStarted = false;
    // Asked at BEGIN, i.e. at the batch's first statement. When every call had already started by
    // then, no call ran a statement of its own: the batch is nothing but grouped appends.
    const lockMode = (): LockMode => {
      if (exclusiveRequired) return 'exclusive';
      return batch.length === 1 || allStarted ? 'shared' : 'exclusive';
    };
    const session = new BatchSession(client.client, this.deps.sql, this.deps.begins, lockMode);
    // In a batch of several calls a second append of one call implies a statement of its own, so the
    // batch holds the lock exclusively; a single call asks for it (NeedsExclusive).
    const calls = await startCalls(batch, session, this.deps.sql, batch.length > 1 || exclusiveRequired);
    allStarted = true;
    const flushed = await session.flushAppends().then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const outcomes = await Promise.all(calls.map((c) => c.outcome));
    for (const { tx } of calls) tx.end();

    const failedAfterWriting = calls.some(({ tx }, i) => tx.failure || (!outcomes[i]!.ok && tx.wrote));
    if (flushed || session.failure || failedAfterWriting) {
      await this.rollback(session, client);
      const error =
        session.failure?.error ??
        flushed?.error ??
        calls.find(({ tx }) => tx.failure)?.tx.failure?.error ??
        outcomes.find((o): o is Failed => !o.ok)?.error;
      return { kind: 'rerun', error };
    }
    try {
      await session.commit();
    } catch (error) {
      await this.rollback(session, client);
      // A COMMIT PostgreSQL refused (e.g. a serialization failure) is known not to have committed;
      // a broken connection leaves the outcome unknown, so nothing is run again.
      return isRetryable(error) ? { kind: 'rerun', error } : { kind: 'failed', error };
    }
    return { kind: 'done', outcomes };
  }

  /**
   * Runs the calls one after another, each in its own savepoint, holding the write lock exclusively.
   * A call that fails (or swallowed an SQL error) is rolled back to its savepoint and fails alone; one
   * that failed with a retryable error runs again (bounded). `retry` when the transaction control
   * itself failed (BEGIN, SAVEPOINT, COMMIT), with the outcomes so far.
   */
  private async attemptWithSavepoints(
    client: ClientHandle,
    batch: readonly QueuedCall[],
  ): Promise<SavepointAttempt> {
    const session = new BatchSession(client.client, this.deps.sql, this.deps.begins, () => 'exclusive');
    const outcomes: Outcome[] = [];
    try {
      for (const call of batch) {
        for (let n = 1; ; n++) {
          await session.savepoint();
          const tx = new PgWriteTransaction({
            session,
            sql: this.deps.sql,
            exclusive: true,
            immediate: true,
            onPark: () => undefined,
          });
          const outcome = await runCall(call.fn, tx);
          tx.end();
          const error = tx.failure?.error ?? (outcome.ok ? undefined : outcome.error);
          if (error === undefined) {
            await session.releaseSavepoint();
            outcomes.push(outcome);
            break;
          }
          await session.rollbackToSavepoint();
          if (isRetryable(error) && n < this.deps.maxAttempts) {
            await backoff(n);
            continue;
          }
          outcomes.push({ ok: false, error: exhausted(error) });
          break;
        }
      }
      await session.commit();
      return { kind: 'done', outcomes };
    } catch (error) {
      await this.rollback(session, client);
      return { kind: 'retry', error, outcomes };
    }
  }

  /** ROLLBACK; a connection whose ROLLBACK fails is discarded by the pool instead of reused. */
  private async rollback(session: BatchSession, client: ClientHandle): Promise<void> {
    await session.rollback().catch((error: unknown) => {
      client.broken = error instanceof Error ? error : new Error(String(error));
    });
  }

  private async withConnection<R>(fn: (client: ClientHandle) => Promise<R>): Promise<R> {
    const handle: ClientHandle = { client: await this.deps.pool().connect() };
    // A server that dies while the connection is checked out makes the client emit 'error' between
    // queries; the pool listens only while a connection is idle, and an unheard 'error' would crash the
    // process. The connection is discarded at release.
    const onError = (error: Error) => {
      handle.broken ??= error;
    };
    handle.client.on('error', onError);
    try {
      return await fn(handle);
    } finally {
      handle.client.off('error', onError);
      handle.client.release(handle.broken);
    }
  }
}

/** What the queue needs from the adapter. */
export interface WriteQueueDeps {
  /** The open pool; throws UNAVAILABLE when the store is closed. */
  pool: () => pg.Pool;
  sql: Statements;
  begins: BeginStatements;
  maxAttempts: number;
  maxBatchSize: number;
}

/** One queued `write()` call. */
interface QueuedCall {
  fn: (tx: WriteTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Hinted `appendOnly` (see {@link PgWriteQueue.enqueue}). */
  appendOnly: boolean;
  /** Runs of an `appendOnly` call that PostgreSQL aborted so far. */
  attempts: number;
}

/** A pooled connection and, once it failed to roll back, the error to discard it with. */
interface ClientHandle {
  client: pg.PoolClient;
  broken?: Error;
}

type Failed = { ok: false; error: unknown };
type Outcome = { ok: true; value: unknown } | Failed;
type BareAttempt =
  | { kind: 'done'; outcomes: Outcome[] }
  | { kind: 'rerun'; error: unknown }
  | { kind: 'failed'; error: unknown };
type SavepointAttempt =
  | { kind: 'done'; outcomes: Outcome[] }
  | { kind: 'retry'; error: unknown; outcomes: Outcome[] };

/**
 * Starts the calls of a batch one after another: the next starts once the previous one finished or
 * parked an append for the group (batch-session.ts). A call alone gains nothing from waiting for a
 * group, and runs its statements as it issues them.
 */
async function startCalls(
  batch: readonly QueuedCall[],
  session: BatchSession,
  sql: Statements,
  exclusive: boolean,
): Promise<Array<{ tx: PgWriteTransaction; outcome: Promise<Outcome> }>> {
  const calls: Array<{ tx: PgWriteTransaction; outcome: Promise<Outcome> }> = [];
  for (const call of batch) {
    let park!: () => void;
    const parked = new Promise<void>((resolve) => {
      park = resolve;
    });
    const tx = new PgWriteTransaction({
      session,
      sql,
      exclusive,
      immediate: batch.length === 1,
      onPark: park,
    });
    const outcome = runCall(call.fn, tx);
    calls.push({ tx, outcome });
    await Promise.race([outcome, parked]);
  }
  return calls;
}

/** Runs a call's function; never rejects. */
function runCall(fn: (tx: WriteTransaction) => Promise<unknown>, tx: PgWriteTransaction): Promise<Outcome> {
  return Promise.resolve()
    .then(() => fn(tx))
    .then(
      (value): Outcome => ({ ok: true, value }),
      (error: unknown): Outcome => ({ ok: false, error }),
    );
}

function settle(batch: readonly QueuedCall[], outcomes: readonly Outcome[]): void {
  batch.forEach((call, i) => {
    const outcome = outcomes[i]!;
    if (outcome.ok) call.resolve(outcome.value);
    else call.reject(outcome.error);
  });
}

/** The whole batch failed: each call with its own error if it had one, else with the batch's. */
function failAll(batch: readonly QueuedCall[], error: unknown, outcomes: readonly Outcome[]): void {
  batch.forEach((call, i) => {
    const outcome = outcomes[i];
    call.reject(outcome && !outcome.ok ? outcome.error : error);
  });
}

/** A short, jittered pause before retrying a write PostgreSQL aborted (deadlock, serialization). */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(100, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
