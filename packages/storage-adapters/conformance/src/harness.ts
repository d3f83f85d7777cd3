import type { StorageAdapter, StoreManifest } from '@natter/server-core';

/**
 * One store for one test, as an adapter's factory provides it.
 *
 * @example
 * ```ts
 * const factory: StorageFactory = async () => {
 *   const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-'));
 *   const path = `${dir}/chat.db`;
 *   return {
 *     adapter: createSqliteStorage({ path }),
 *     reopen: async () => createSqliteStorage({ path }),
 *     cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
 *   };
 * };
 * ```
 */
export interface StorageHarness {
  /** A new adapter over an empty store, not yet opened: the suite calls `open()` and `close()`. */
  adapter: StorageAdapter;
  /**
   * Returns a new, not yet opened adapter over the same data as `adapter`, as a process restart would.
   * The suite calls it only after closing the previous adapter. Omit it when the store cannot be
   * reopened; the durability checks are then skipped, as they are when the manifest says
   * `persistent: false`.
   */
  reopen?: () => Promise<StorageAdapter>;
  /**
   * Releases whatever the harness created (files, directories, connections). Called once per test,
   * after the suite has closed every adapter it opened, also when the test failed.
   */
  cleanup(): Promise<void>;
}

/** Creates a fresh {@link StorageHarness}; called once for every test. */
export type StorageFactory = () => Promise<StorageHarness>;

/** Size of the concurrency checks. */
export interface ConformanceScale {
  /**
   * Channels written to at once.
   * @default 20
   */
  channels: number;
  /**
   * Concurrent `write()` calls.
   * @default 500
   */
  writes: number;
}

/** Options of `runStorageConformance`. */
export interface ConformanceOptions {
  /** Adapter name, used in the `describe` titles. */
  name: string;
  /** Creates a fresh store for each test. */
  factory: StorageFactory;
  /** Size of the concurrency checks; lower it for slow remote stores. */
  scale?: Partial<ConformanceScale>;
  /**
   * Also runs every check on a store that was opened, closed and reopened before the check, when
   * the harness offers `reopen` and the manifest says `persistent`.
   * @default true
   */
  reopenedRun?: boolean;
}

/** What a check receives: the opened adapter under test and a way to restart it. */
export interface CheckContext {
  /** The opened adapter under test; `reopen()` replaces it. */
  readonly adapter: StorageAdapter;
  /**
   * Closes `adapter`, opens a new adapter over the same data and makes it `adapter`.
   * Undefined when the harness cannot reopen or the manifest does not say `persistent`.
   */
  readonly reopen: (() => Promise<StorageAdapter>) | undefined;
  /** Closes `adapter`; the suite then does not close it again. */
  close(): Promise<void>;
  /** Size of the concurrency checks. */
  readonly scale: ConformanceScale;
}

/** One behaviour of the storage contract, runnable on its own. */
export interface ConformanceCheck {
  /** The `describe` block the check belongs to, e.g. `appendMessage`. */
  readonly group: string;
  /** The behaviour as a sentence, used as the test name. */
  readonly title: string;
  /** The check needs {@link CheckContext.reopen}; it is skipped when that is unavailable. */
  readonly needsReopen?: boolean;
  /** The check tests an optional feature; it is skipped when the manifest does not declare it. */
  readonly needsCapability?: keyof StoreManifest['capabilities'];
  /** Runs the check; rejects (with an assertion error) when the adapter misbehaves. */
  run(context: CheckContext): Promise<void>;
}

/** Declares a {@link ConformanceCheck}. */
export function defineCheck(
  group: string,
  title: string,
  run: (context: CheckContext) => Promise<void>,
  options: { needsReopen?: boolean; needsCapability?: keyof StoreManifest['capabilities'] } = {},
): ConformanceCheck {
  return { group, title, run, ...options };
}
