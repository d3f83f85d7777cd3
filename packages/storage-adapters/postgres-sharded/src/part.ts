import type { WriteTransaction } from '@natter/server-core';
import type { ShardServer } from './server.js';

/**
 * Thrown to run a sharded write's function again from the start: a server's write queue ran its part
 * again (a deadlock, a batch reordered), or a direct key is being claimed by a write in flight.
 */
export class RestartWrite extends Error {
  override readonly name = 'RestartWrite';
  constructor(
    message: string,
    readonly delayMs = 0,
  ) {
    super(message);
  }
}

/** One call of a part's function by the server's write queue: a transaction, open until `end`. */
export interface Invocation {
  tx: WriteTransaction;
  generation: number;
  end: (error?: unknown) => void;
}

/**
 * One server's part of a sharded write: one `write()` of that server's adapter (group-committed with
 * the server's other writes), whose function hands its transaction out and waits until the sharded
 * write ends it. The server's queue may call the function again (it rolled the batch back for a
 * deadlock or a reorder, and runs it again): each call is an {@link Invocation}, taken by the next
 * attempt of the sharded write, so the part lives across attempts.
 */
export class Part {
  readonly committed: Promise<unknown>;
  generation = 0;
  settled = false;
  private fresh: Invocation[] = [];
  private waiters: Array<{ resolve: (i: Invocation) => void; reject: (e: unknown) => void }> = [];
  private listeners = new Set<() => void>();
  /** The sharded write is over: a further call of the function ends at once with this outcome. */
  private closed: { error?: unknown } | undefined;

  constructor(server: ShardServer, channelId: string | undefined) {
    this.committed = server.guard(() =>
      server.adapter.chat.write(
        (tx) => this.invoked(tx),
        channelId !== undefined ? { channelId } : undefined,
      ),
    );
    this.committed.then(
      () => this.settle(),
      () => this.settle(),
    );
  }

  /** The next invocation not yet taken (waiting for it); rejects when the part ended without one. */
  take(): Promise<Invocation> {
    const next = this.fresh.shift();
    if (next) return Promise.resolve(next);
    if (this.settled) return Promise.reject(new RestartWrite('the server ended the part'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Resolves at the next invocation or when the part ends. */
  changed(): Promise<void> {
    if (this.settled || this.fresh.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = () => {
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
    });
  }

  /** True when an invocation waits to be taken. */
  get hasFresh(): boolean {
    return this.fresh.length > 0;
  }

  /** Ends the part: pending and later invocations end with `error` (rolled back) or commit nothing. */
  close(error?: unknown): void {
    this.closed = error === undefined ? {} : { error };
    for (const invocation of this.fresh.splice(0)) invocation.end(error);
  }

  private invoked(tx: WriteTransaction): Promise<void> {
    let end!: (error?: unknown) => void;
    const ended = new Promise<void>((resolve, reject) => {
      end = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Seen by the server's write queue; never unhandled when the queue abandoned this call.
    ended.catch(() => undefined);
    const invocation: Invocation = { tx, generation: ++this.generation, end };
    if (this.closed) {
      end(this.closed.error);
      return ended;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(invocation);
    else this.fresh.push(invocation);
    for (const listener of [...this.listeners]) listener();
    return ended;
  }

  private settle(): void {
    this.settled = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new RestartWrite('the server ended the part'));
    for (const listener of [...this.listeners]) listener();
  }
}
