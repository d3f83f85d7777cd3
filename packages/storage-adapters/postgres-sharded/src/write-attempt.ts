import type { WriteHint, WriteTransaction } from '@natter/server-core';
import type { ShardServer } from './server.js';

/**
 * Thrown to run a sharded write's function again from the start: a server's write queue re-ran its
 * part (a deadlock or a reordered batch), or a direct key is being claimed by a write in flight.
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

/** One server's part of a sharded write: a `write()` of that server's adapter, held open until the end. */
interface Part {
  server: ShardServer;
  tx: Promise<WriteTransaction>;
  /** Ends the part: commits (no error) or rolls back. */
  finish: (error?: unknown) => void;
  /** Settles when that server committed (or rolled back) the part. */
  committed: Promise<unknown>;
  /** The server's write queue called the part's function a second time: its transaction is gone. */
  broken: boolean;
}

/**
 * One attempt of a sharded write. The write's function runs outside any server; each server it
 * touches gets a part: that server's own group-committed `write()`, whose function waits until the
 * sharded write's function is done. Then every part commits (or, when the function threw, rolls
 * back). The core's writes touch one server (a channel's rows, its moderation keys, its outbox);
 * a write touching two would commit on each separately (docs/adapters.md).
 */
export class WriteAttempt {
  private readonly parts = new Map<number, Part>();
  private readonly undo: Array<() => Promise<void>> = [];

  constructor(private readonly hint: WriteHint | undefined) {}

  /** The transaction of `server`'s part, opened on first use. */
  async on(server: ShardServer, channelId?: string): Promise<WriteTransaction> {
    let part = this.parts.get(server.index);
    if (!part) {
      part = this.open(server, channelId ?? this.hint?.channelId);
      this.parts.set(server.index, part);
    }
    const tx = await part.tx;
    if (part.broken) throw new RestartWrite('a server ran the write again');
    return tx;
  }

  /** Servers with a part. */
  servers(): number[] {
    return [...this.parts.keys()];
  }

  /** Commits every part; rejects with the first failure (after all settled). */
  async commit(): Promise<void> {
    for (const part of this.parts.values()) part.finish();
    const results = await Promise.allSettled([...this.parts.values()].map((p) => p.committed));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  /** Rolls every part back, then undoes what the attempt committed outside them. */
  async abort(error: unknown): Promise<void> {
    for (const part of this.parts.values()) part.finish(error);
    await Promise.allSettled([...this.parts.values()].map((p) => p.committed));
    await Promise.allSettled(this.undo.map((fn) => fn()));
  }

  /** Registers what to undo when the attempt rolls back (a direct-key claim committed on its server). */
  onAbort(fn: () => Promise<void>): void {
    this.undo.push(fn);
  }

  private open(server: ShardServer, channelId: string | undefined): Part {
    let resolveTx!: (tx: WriteTransaction) => void;
    let end!: { resolve: () => void; reject: (e: unknown) => void };
    const ended = new Promise<void>((resolve, reject) => {
      end = { resolve, reject };
    });
    // Seen by the server's write queue; never unhandled when the queue failed before calling it.
    ended.catch(() => undefined);
    const started = new Promise<WriteTransaction>((resolve) => {
      resolveTx = resolve;
    });
    const part: Part = {
      server,
      tx: started,
      finish: (error) => (error === undefined ? end.resolve() : end.reject(error)),
      committed: Promise.resolve(),
      broken: false,
    };
    let calls = 0;
    part.committed = server.guard(() =>
      server.adapter.chat.write(
        (tx) => {
          calls++;
          if (calls > 1) {
            part.broken = true;
            throw new RestartWrite('a server ran the write again');
          }
          resolveTx(tx);
          return ended;
        },
        channelId !== undefined ? { channelId } : undefined,
      ),
    );
    // A part that fails before its function runs (server down) fails the write's calls on it.
    part.tx = Promise.race([
      started,
      part.committed.then(() => {
        throw new RestartWrite('a server ended the write before it began');
      }),
    ]);
    part.tx.catch(() => undefined);
    part.committed.catch(() => undefined);
    return part;
  }
}
