import type { BlobStore, BlobStoreManifest } from '@natter/server-core';

/**
 * One blob store for one test, as an adapter's factory provides it.
 *
 * @example
 * ```ts
 * const factory: BlobFactory = async () => {
 *   const root = fs.mkdtempSync(path.join(os.tmpdir(), 'blobs-'));
 *   return {
 *     store: createFsBlobStore({ root }),
 *     reopen: async () => createFsBlobStore({ root }),
 *     cleanup: async () => fs.rmSync(root, { recursive: true, force: true }),
 *   };
 * };
 * ```
 */
export interface BlobHarness {
  /** A new store over an empty backend, not yet opened: the suite calls `open()` and `close()`. */
  store: BlobStore;
  /**
   * A new, not yet opened store over the same blobs, as after a process restart; called only after
   * the previous store was closed. Omit it when the backend cannot be reopened (persistence checks skip).
   */
  reopen?: () => Promise<BlobStore>;
  /** Releases whatever the harness created (directories, buckets). Called once per test, also after failures. */
  cleanup(): Promise<void>;
}

/** Creates a fresh {@link BlobHarness}; called once for every test. */
export type BlobFactory = () => Promise<BlobHarness>;

/** Size of the streaming checks. */
export interface BlobConformanceScale {
  /**
   * Bytes of the large blob streamed through `put` and `get`.
   * @default 67108864 (64 MiB)
   */
  largeBlobBytes: number;
  /**
   * How much the process's RSS may grow while the large blob streams through; a store that buffers the
   * whole blob grows by at least its size.
   * @default largeBlobBytes / 2
   */
  rssGrowthBound: number;
  /**
   * Concurrent `put`s of the same bytes.
   * @default 8
   */
  concurrentPuts: number;
}

/** Options of `runBlobConformance`. */
export interface BlobConformanceOptions {
  /** Adapter name, used in the `describe` titles. */
  name: string;
  /** Creates a fresh store for each test. */
  factory: BlobFactory;
  /** Size of the streaming checks; lower it for slow remote stores. */
  scale?: Partial<BlobConformanceScale>;
}

/** What a check receives: the opened store under test and a way to restart it. */
export interface BlobCheckContext {
  /** The opened store under test; `reopen()` replaces it. */
  readonly store: BlobStore;
  /** Closes `store`, opens a new one over the same blobs and makes it `store`; undefined when unavailable. */
  readonly reopen: (() => Promise<BlobStore>) | undefined;
  /** Size of the streaming checks. */
  readonly scale: BlobConformanceScale;
}

/** One behaviour of the blob store contract, runnable on its own. */
export interface BlobCheck {
  /** The `describe` block the check belongs to, e.g. `ranges`. */
  readonly group: string;
  /** The behaviour as a sentence, used as the test name. */
  readonly title: string;
  /** The check needs {@link BlobCheckContext.reopen}; it is skipped when that is unavailable. */
  readonly needsReopen?: boolean;
  /** The check tests an optional capability; it is skipped when the manifest does not declare it. */
  readonly needsCapability?: keyof BlobStoreManifest['capabilities'];
  /** Per-check timeout in ms for vitest (the streaming checks move 64 MiB twice). */
  readonly timeoutMs?: number;
  /** Runs the check; rejects (with an assertion error) when the store misbehaves. */
  run(context: BlobCheckContext): Promise<void>;
}

/** Declares a {@link BlobCheck}. */
export function defineBlobCheck(
  group: string,
  title: string,
  run: (context: BlobCheckContext) => Promise<void>,
  options: Pick<BlobCheck, 'needsReopen' | 'needsCapability' | 'timeoutMs'> = {},
): BlobCheck {
  return { group, title, run, ...options };
}
