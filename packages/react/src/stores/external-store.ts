/**
 * The one shape every store of the bindings has: a snapshot that is replaced (never mutated) on change, and
 * `subscribe` for `useSyncExternalStore`. A store listens to the client only while something subscribes:
 * it activates on the first subscriber and deactivates a tick after the last one left, so React's StrictMode
 * (subscribe, unsubscribe, subscribe in one commit) does not tear down and reload.
 */
export abstract class ExternalStore<T> {
  private snapshot: T;
  private readonly listeners = new Set<() => void>();
  private active = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  protected constructor(initial: T) {
    this.snapshot = initial;
  }

  /** The current snapshot: the same object until something changed. */
  readonly getSnapshot = (): T => this.snapshot;

  /** Registers a change listener (for `useSyncExternalStore`); returns its removal. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (!this.active) {
      this.active = true;
      this.activate();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size > 0 || this.idleTimer !== undefined) return;
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (this.listeners.size > 0 || !this.active) return;
        this.active = false;
        this.deactivate();
      }, 0);
    };
  };

  /** True while something subscribes (or did a moment ago). */
  get isActive(): boolean {
    return this.active;
  }

  /** Replaces the snapshot and tells the subscribers; an identical snapshot changes nothing. */
  protected set(next: T): void {
    if (Object.is(next, this.snapshot)) return;
    this.snapshot = next;
    for (const listener of [...this.listeners]) listener();
  }

  /** Starts listening to the client (first subscriber). */
  protected abstract activate(): void;
  /** Stops listening (no subscriber left). */
  protected abstract deactivate(): void;
}

/** Runs every unsubscribe function of a list and empties it. */
export function unsubscribeAll(list: Array<() => void>): void {
  for (const off of list.splice(0)) off();
}
