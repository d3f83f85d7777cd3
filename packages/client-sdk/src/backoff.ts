/**
 * Delay before reconnect attempt `attempt` (0 for the first retry), in ms. Must be pure apart from its
 * randomness so tests can pin it.
 */
export type Backoff = (attempt: number) => number;

/** Options of {@link fullJitterBackoff}. */
export interface BackoffOptions {
  /** Cap of the first attempt's delay, ms. @default 500 */
  baseMs?: number;
  /** Largest delay, ms. @default 30000 */
  maxMs?: number;
  /** Growth of the cap per attempt. @default 2 */
  factor?: number;
  /** Source of randomness in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Capped exponential backoff with full jitter: a uniform delay in `[0, min(maxMs, baseMs * factor^attempt))`.
 * Full jitter spreads a crowd of clients over the whole window after a server restart, where fixed steps
 * would make them reconnect in lockstep.
 */
export function fullJitterBackoff(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  const factor = options.factor ?? 2;
  const random = options.random ?? Math.random;
  // Clamping the exponent keeps the power finite for absurd attempt counts.
  const step = Math.max(0, Math.min(Math.floor(attempt), 64));
  const cap = Math.min(maxMs, baseMs * factor ** step);
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(r * cap);
}

/** A {@link Backoff} with fixed options. */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  return (attempt) => fullJitterBackoff(attempt, options);
}

/**
 * The delay to wait when the server named one: never earlier than it asked (`retryAfterMs`), plus the
 * jittered backoff so clients told the same value still spread out.
 */
export function delayWithRetryAfter(backoffMs: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return backoffMs;
  return Math.ceil(retryAfterMs) + backoffMs;
}

/** The retry delays of sends and sync requests: full jitter from 250 ms, doubling, capped at 10 s. */
export const RETRY_BACKOFF = { baseMs: 250, maxMs: 10_000 } as const;

/**
 * The delay before retry `attempt` of a failed send or sync request: {@link RETRY_BACKOFF} with its jitter
 * drawn from `random` (the client passes its `backoff.random`, so a test that pins reconnects pins retries
 * too), and never earlier than the server's `retryAfterMs`.
 */
export function createRetryDelay(
  random?: () => number,
): (attempt: number, retryAfterMs: number | undefined) => number {
  const options: BackoffOptions = random ? { ...RETRY_BACKOFF, random } : RETRY_BACKOFF;
  return (attempt, retryAfterMs) => delayWithRetryAfter(fullJitterBackoff(attempt, options), retryAfterMs);
}
