import type { WriteHint, WriteTransaction } from '@natter/server-core';
import { type Invocation, Part, RestartWrite } from './part.js';
import type { ShardServer } from './server.js';

export { RestartWrite } from './part.js';

/**
 * One attempt of a sharded write. The write's function runs outside any server; each server it
 * touches gives it the transaction of that server's part (part.ts). At the end every part commits,
 * or rolls back when the function threw. The core's writes touch one server (a channel's rows, its
 * moderation keys, its outbox); a write touching two commits on each separately (docs/adapters.md).
 */
export class WriteAttempt {
  private readonly used = new Map<number, { part: Part; invocation: Promise<Invocation> }>();
  private readonly undo: Array<() => Promise<void>> = [];

  /** Servers the write needed but had not reserved: the next attempt reserves them too. */
  readonly missing = new Set<number>();

  /**
   * Reserves the parts of `reserve` (ascending) at once, in the same tick as the call: every
   * server's queue then orders the writes of this process the same way, so two writes never wait
   * for each other on two servers.
   */
  constructor(
    /** Parts of the write, kept across its attempts. */
    private readonly parts: Map<number, Part>,
    private readonly hint: WriteHint | undefined,
    reserve: readonly ShardServer[],
    /** The write runs alone in this process (write-gate.ts): parts open on first use. */
    private readonly exclusive: boolean,
  ) {
    for (const server of reserve) this.reserve(server);
  }

  private reserve(server: ShardServer): void {
    let part = this.parts.get(server.index);
    if (!part || (part.settled && !part.hasFresh)) {
      part = new Part(server, this.hint?.channelId);
      this.parts.set(server.index, part);
    }
    const invocation = part.take();
    invocation.catch(() => undefined);
    this.used.set(server.index, { part, invocation });
  }

  /**
   * The transaction of `server`'s part. A server the attempt did not reserve makes it restart with
   * that server reserved too (opening it now could wait on a write that waits on this one).
   */
  async on(server: ShardServer): Promise<WriteTransaction> {
    if (!this.used.has(server.index)) {
      if (!this.exclusive) {
        this.missing.add(server.index);
        throw new RestartWrite('the write needs another server');
      }
      this.reserve(server);
    }
    const use = this.used.get(server.index)!;
    const invocation = await use.invocation;
    if (use.part.generation !== invocation.generation) throw new RestartWrite('a server ran the write again');
    return invocation.tx;
  }

  /**
   * Commits every part; throws {@link RestartWrite} when a server ran its part again meanwhile (the
   * function must run again), else the first failure.
   */
  async commit(): Promise<void> {
    const uses = [...this.used.values()];
    const invocations = await Promise.all(uses.map((u) => u.invocation));
    if (uses.some((u, i) => u.part.generation !== invocations[i]!.generation)) {
      throw new RestartWrite('a server ran the write again');
    }
    for (const invocation of invocations) invocation.end();
    const outcome = await Promise.allSettled(
      uses.map(async ({ part }, i) => {
        for (;;) {
          if (part.generation !== invocations[i]!.generation)
            throw new RestartWrite('a server ran the write again');
          if (part.settled) {
            await part.committed;
            return;
          }
          await part.changed();
        }
      }),
    );
    const restart = outcome.find((o) => o.status === 'rejected' && o.reason instanceof RestartWrite);
    const failure = restart ?? outcome.find((o) => o.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  /**
   * Ends the attempt's invocations with `error` and waits for each server's verdict. True when a
   * server runs its part again (its queue retries: the function must run again, on the new
   * invocation); otherwise the reason to reject with (the server's, e.g. CONFLICT for a lost race).
   */
  async fail(error: unknown): Promise<{ again: boolean; reason: unknown }> {
    const uses = [...this.used.values()];
    let again = false;
    let reason: unknown = error;
    await Promise.all(
      uses.map(async ({ part, invocation }) => {
        const taken = await invocation.catch(() => undefined);
        taken?.end(error);
        if (taken && part.generation === taken.generation) await part.changed();
        if (part.hasFresh) {
          again = true;
          return;
        }
        const verdict = await part.committed.then(
          () => undefined,
          (e: unknown) => e,
        );
        if (verdict !== undefined && verdict !== error && !(verdict instanceof RestartWrite))
          reason = verdict;
      }),
    );
    await Promise.allSettled(this.undo.splice(0).map((fn) => fn()));
    return { again, reason };
  }

  /** Registers what to undo when the attempt rolls back (a direct-key claim committed on its server). */
  onAbort(fn: () => Promise<void>): void {
    this.undo.push(fn);
  }
}
