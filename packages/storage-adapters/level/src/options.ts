/** Options of {@link createLevelStorage}. */
export interface LevelStorageOptions {
  /** Directory of the LevelDB store; created (with its parents) when missing. */
  path: string;
  /**
   * Write every commit with `sync: true` (fsync before the write is acknowledged), so an
   * acknowledged write survives a power loss. With `false` a process crash still loses nothing (the
   * data is in the OS), but a power loss may lose the last commits; commits are faster.
   * @default true
   */
  sync?: boolean;
  /**
   * Most `write()` calls committed in one batch (group commit).
   * @default 256
   */
  maxBatchSize?: number;
}

/** {@link LevelStorageOptions} with every default applied. */
export type ResolvedLevelOptions = Required<LevelStorageOptions>;

/** Applies the defaults and validates the values. */
export function resolveOptions(options: LevelStorageOptions): ResolvedLevelOptions {
  const resolved: ResolvedLevelOptions = {
    path: options.path,
    sync: options.sync ?? true,
    maxBatchSize: options.maxBatchSize ?? 256,
  };
  if (typeof resolved.path !== 'string' || resolved.path === '') {
    throw new TypeError('createLevelStorage: `path` must name a directory');
  }
  if (typeof resolved.sync !== 'boolean') {
    throw new TypeError('createLevelStorage: `sync` must be a boolean');
  }
  if (!Number.isInteger(resolved.maxBatchSize) || resolved.maxBatchSize < 1) {
    throw new TypeError('createLevelStorage: `maxBatchSize` must be a positive integer');
  }
  return resolved;
}
