import { ExternalStore } from './external-store.js';

/**
 * A store of values by key that loads missing keys in batches: `want(keys)` asks for the keys not known
 * and not in flight, once, in one `fetch`. Hooks select one key, so a change to one user re-renders only
 * the components showing that user.
 */
export abstract class KeyedStore<V> extends ExternalStore<ReadonlyMap<string, V>> {
  private readonly inFlight = new Set<string>();
  private readonly queued = new Set<string>();
  private flushScheduled = false;

  protected constructor() {
    super(new Map());
  }

  /** The value of a key, if known. */
  get(key: string): V | undefined {
    return this.getSnapshot().get(key);
  }

  /** Loads the keys not known yet (batched with other calls of the same tick). */
  want(keys: readonly string[]): void {
    for (const key of keys) {
      if (this.getSnapshot().has(key) || this.inFlight.has(key)) continue;
      this.queued.add(key);
    }
    this.flush();
  }

  private flush(): void {
    if (this.queued.size === 0 || this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      const batch = [...this.queued];
      this.queued.clear();
      for (const key of batch) this.inFlight.add(key);
      this.fetch(batch)
        .then((values) => this.put(values))
        .catch(() => undefined)
        .finally(() => {
          for (const key of batch) this.inFlight.delete(key);
        });
    });
  }

  /**
   * Loads every known key again (batched like `want`): for values that events keep current only while
   * connected, so what changed during a disconnection is not shown stale afterwards.
   */
  protected refreshAll(): void {
    for (const key of this.getSnapshot().keys()) if (!this.inFlight.has(key)) this.queued.add(key);
    this.flush();
  }

  /** Sets values; keys whose value is the same object are left alone. */
  protected put(values: ReadonlyMap<string, V>): void {
    let next: Map<string, V> | undefined;
    for (const [key, value] of values) {
      if (this.getSnapshot().get(key) === value) continue;
      next ??= new Map(this.getSnapshot());
      next.set(key, value);
    }
    if (next) this.set(next);
  }

  /** Loads values of keys; keys it cannot load are left out. */
  protected abstract fetch(keys: readonly string[]): Promise<ReadonlyMap<string, V>>;
}
