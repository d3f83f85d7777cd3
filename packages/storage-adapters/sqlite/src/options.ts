/** Options of {@link createSqliteStorage}. */
export interface SqliteStorageOptions {
  /** Path of the database file; its parent directory is created when missing. */
  path: string;
  /**
   * Durability of an acknowledged write. `full`: every batch's WAL frames are fsynced (on the thread
   * pool, off the event loop) before any of its calls settles or a reader can see it, so an acknowledged
   * write survives a power loss. `normal`: COMMIT without fsync; survives a process crash, may lose
   * the last commits on power loss, in exchange for throughput.
   * @default 'full'
   */
  synchronous?: 'full' | 'normal';
  /**
   * Most `write()` calls committed in one transaction (group commit).
   * @default 256
   */
  maxBatchSize?: number;
  /**
   * Least time between the starts of two write batches, in ms. Under a steady stream of writes a batch
   * then gathers what arrived during this time instead of what arrived in one event-loop turn, and every
   * commit (its WAL pages, the full-text index's new segment, the fsync) is shared by more writes; an
   * idle store starts a batch at once, so a lone write waits no longer. 0 starts a batch every turn.
   * @default 2
   */
  commitIntervalMs?: number;
  /**
   * How long a connection waits for a lock held by another connection before failing, in ms.
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * How often the checkpoint worker copies the WAL back into the database file, in ms. Longer means
   * fewer fsyncs of the database file competing with the WAL's (decision 212) and a larger WAL between
   * checkpoints; durability does not depend on it.
   * @default 1000
   */
  checkpointIntervalMs?: number;
}

/** {@link SqliteStorageOptions} with every default applied. */
export type ResolvedSqliteOptions = Required<SqliteStorageOptions>;

/** Applies the defaults and validates the numbers. */
export function resolveOptions(options: SqliteStorageOptions): ResolvedSqliteOptions {
  const resolved: ResolvedSqliteOptions = {
    path: options.path,
    synchronous: options.synchronous ?? 'full',
    maxBatchSize: options.maxBatchSize ?? 256,
    commitIntervalMs: options.commitIntervalMs ?? 2,
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    checkpointIntervalMs: options.checkpointIntervalMs ?? 1_000,
  };
  if (typeof resolved.path !== 'string' || resolved.path === '' || resolved.path === ':memory:') {
    throw new TypeError(
      'createSqliteStorage: `path` must name a file (use @natter/storage-memory for memory)',
    );
  }
  if (resolved.synchronous !== 'full' && resolved.synchronous !== 'normal') {
    throw new TypeError("createSqliteStorage: `synchronous` must be 'full' or 'normal'");
  }
  if (!Number.isInteger(resolved.maxBatchSize) || resolved.maxBatchSize < 1) {
    throw new TypeError('createSqliteStorage: `maxBatchSize` must be a positive integer');
  }
  if (
    typeof resolved.commitIntervalMs !== 'number' ||
    !Number.isFinite(resolved.commitIntervalMs) ||
    resolved.commitIntervalMs < 0 ||
    resolved.commitIntervalMs > 1_000
  ) {
    throw new TypeError('createSqliteStorage: `commitIntervalMs` must be a number from 0 to 1000');
  }
  if (!Number.isInteger(resolved.busyTimeoutMs) || resolved.busyTimeoutMs < 0) {
    throw new TypeError('createSqliteStorage: `busyTimeoutMs` must be a non-negative integer');
  }
  if (!Number.isInteger(resolved.checkpointIntervalMs) || resolved.checkpointIntervalMs < 1) {
    throw new TypeError('createSqliteStorage: `checkpointIntervalMs` must be a positive integer');
  }
  return resolved;
}
