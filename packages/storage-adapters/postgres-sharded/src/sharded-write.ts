import { ErrorCode, NatterError, type WriteHint, type WriteTransaction } from '@natter/server-core';
import { isRetryable } from '@natter/storage-postgres/internals';
import { copyKey } from './copy.js';
import type { SourceFanout } from './fanout.js';
import { type HandedPositions, ShardedTx, type ShardedTxDeps } from './sharded-tx.js';
import { RestartWrite, WriteAttempt } from './write-attempt.js';

/** Attempts of a sharded write whose function must run again (see {@link RestartWrite}). */
const MAX_ATTEMPTS = 8;

/**
 * `ChatStore.write` of the sharded store. The acknowledgement is the commit on the channel's server
 * (message, client-message key, local sync entries and outbox rows in one transaction); the call
 * then waits for the fan-out of its own entries and returns the users' positions in place of the
 * local ones, so the core delivers and acknowledges exactly as on one server. A recipient whose
 * server is unreachable is left out of the returned positions: the fan-out worker copies the entry
 * when the server is back (and reports it to `onLateEntries`), and the client finds it by syncing.
 */
export async function shardedWrite<T>(
  deps: ShardedTxDeps,
  fn: (tx: WriteTransaction) => Promise<T>,
  hint: WriteHint | undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const run = new WriteAttempt(hint);
    const tx = new ShardedTx(deps, run, hint?.channelId);
    let value: T;
    try {
      value = await fn(tx);
      await run.commit();
    } catch (error) {
      await run.abort(error);
      const again = error instanceof RestartWrite || isRetryable(error);
      if (!again) throw error;
      if (attempt >= MAX_ATTEMPTS) {
        throw new NatterError(ErrorCode.CONFLICT, `write still conflicting after ${attempt} attempts`);
      }
      const delayMs = error instanceof RestartWrite ? error.delayMs : 0;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      continue;
    }
    await settle(deps.fanouts, tx.handed);
    return value;
  }
}

/** Copies the write's entries to their users' logs and rewrites the handed positions in place. */
async function settle(fanouts: readonly SourceFanout[], handed: HandedPositions): Promise<void> {
  await Promise.all(
    [...handed].map(async ([source, lists]) => {
      const wanted = lists.flatMap((list) => list.map((p) => ({ userId: p.userId, localPos: p.pos })));
      if (wanted.length === 0) return;
      const { positions } = await fanouts[source]!.settle(wanted);
      for (const list of lists) {
        const kept = list.flatMap((p) => {
          const pos = positions.get(copyKey(p.userId, p.pos));
          return pos === undefined ? [] : [{ ...p, pos }];
        });
        list.splice(0, list.length, ...kept);
      }
    }),
  );
}
