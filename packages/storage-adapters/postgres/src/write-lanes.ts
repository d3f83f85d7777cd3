import type { WriteTransaction } from '@natter/server-core';
import type { PgWriteQueue } from './write-queue.js';

/**
 * Several group-commit queues (lanes) side by side, so PostgreSQL runs that many batches at once on
 * as many connections: one batch executes while another commits, and batches of different channels
 * use several server cores. A write hinted with its channel always goes to that channel's lane (a
 * hash of the id), so writes of one channel keep their call order. A write without a hint may touch
 * any channel: it is a barrier, run after every earlier write settled and before any later one starts.
 *
 * Lanes cannot deadlock each other: a lane's batch holds the store's write lock shared only when its
 * locks follow the global order, exclusively otherwise (write-queue.ts), and no lane waits for another
 * inside this process except through those locks.
 */
export class WriteLanes {
  /** The newest barrier write, until it settled. */
  private barrier: Promise<void> | undefined;
  /** Hinted writes started since the last barrier, until they settled. */
  private readonly unsettled = new Set<Promise<void>>();

  constructor(private readonly lanes: readonly PgWriteQueue[]) {}

  /** Runs `fn` in its channel's lane, or as a barrier without a channel. */
  write<T>(
    fn: (tx: WriteTransaction) => Promise<T>,
    channelId: string | undefined,
    appendOnly = false,
  ): Promise<T> {
    // One lane runs its batches one after another, in call order: nothing to coordinate.
    if (this.lanes.length === 1) return this.lanes[0]!.enqueue(fn, appendOnly);
    if (channelId === undefined) {
      const earlier = [this.barrier, ...this.unsettled];
      this.unsettled.clear();
      const result = Promise.all(earlier).then(() => this.lanes[0]!.enqueue(fn));
      const settled = quiet(result);
      this.barrier = settled;
      void settled.then(() => {
        if (this.barrier === settled) this.barrier = undefined;
      });
      return result;
    }
    const lane = this.lanes[laneOf(channelId, this.lanes.length)]!;
    // Without a barrier waiting, enqueue in this turn: calls of one turn share a batch.
    const result = this.barrier
      ? this.barrier.then(() => lane.enqueue(fn, appendOnly))
      : lane.enqueue(fn, appendOnly);
    const settled = quiet(result);
    this.unsettled.add(settled);
    void settled.then(() => this.unsettled.delete(settled));
    return result;
  }

  /** Resolves once every write made so far has settled. */
  async idle(): Promise<void> {
    await Promise.all([this.barrier, ...this.unsettled]);
    await Promise.all(this.lanes.map((lane) => lane.idle()));
  }
}

/** Settles with `promise`, never rejects. */
function quiet(promise: Promise<unknown>): Promise<void> {
  return promise.then(
    () => undefined,
    () => undefined,
  );
}

/** The lane of a channel: FNV-1a of its id, modulo the lane count. */
export function laneOf(channelId: string, lanes: number): number {
  if (lanes === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < channelId.length; i++) {
    hash ^= channelId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
