import { ErrorCode, NatterError } from '@natter/server-core';

/** SQLSTATEs the adapter acts on. */
const SQLSTATE = {
  uniqueViolation: '23505',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  /** Raised by the append functions: a concurrent transaction took the idempotency key (schema v2). */
  keyTakenMeanwhile: 'NT001',
} as const;

/** The SQLSTATE of a `pg` error, if any. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for a UNIQUE or PRIMARY KEY violation. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === SQLSTATE.uniqueViolation;
}

/**
 * Thrown inside a write when a concurrent transaction committed a unique key (a channel id, a
 * direct key, an idempotency key) after this one checked it was free. Running the write's function
 * again sees that row (e.g. the core's `findDirectChannel` / `findByClientMsgId` then find it).
 */
export class ConcurrentInsert extends Error {
  override readonly name = 'ConcurrentInsert';
}

/**
 * Thrown by the second append of a transaction that holds the store's write lock shared (a batch of
 * one write; see write-queue.ts). A second append would take a channel row lock while holding the
 * sync-head locks of the first, an order that can deadlock with concurrent appenders (PostgreSQL
 * detects it only after `deadlock_timeout`). So it is rolled back and run again holding the write
 * lock exclusively: alone, it cannot deadlock. The core's writes append at most once.
 */
export class NeedsExclusive extends Error {
  override readonly name = 'NeedsExclusive';
}

/**
 * Thrown when a call of a batch uses its transaction after an append that ran grouped with later
 * calls' appends: its statements would no longer follow call order. The batch runs again, one call
 * after another (write-queue.ts); the caller never sees this error.
 */
export class OutOfTurn extends Error {
  override readonly name = 'OutOfTurn';
}

/**
 * Thrown, before it runs, by a statement other than an append in a write hinted `appendOnly` (which
 * runs without a transaction, write-queue.ts). A write that had stored nothing yet runs again in a
 * transaction of its own (the hint was wrong, e.g. a wrapper hid `appendChecked`); one whose append
 * already committed fails with this error, since the rest of it can no longer join that commit.
 */
export class NeedsTransaction extends Error {
  override readonly name = 'NeedsTransaction';
}

/** Errors after which the whole `write()` function is run again in a new transaction. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ConcurrentInsert || error instanceof NeedsExclusive) return true;
  const state = sqlState(error);
  return (
    state === SQLSTATE.serializationFailure ||
    state === SQLSTATE.deadlockDetected ||
    state === SQLSTATE.keyTakenMeanwhile
  );
}

/** What a write that ran out of attempts rejects with: CONFLICT for a lost insert race, else the error. */
export function exhausted(error: unknown): unknown {
  if (error instanceof ConcurrentInsert) return new NatterError(ErrorCode.CONFLICT, error.message);
  if (sqlState(error) === SQLSTATE.keyTakenMeanwhile) {
    return new NatterError(ErrorCode.CONFLICT, 'the sender used this clientMsgId in a concurrent write');
  }
  return error;
}
