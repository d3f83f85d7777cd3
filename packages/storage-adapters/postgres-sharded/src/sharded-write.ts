import { ErrorCode, NatterError, type WriteHint, type WriteTransaction } from '@natter/server-core';
import { copyKey } from './copy.js';
import type { SourceFanout } from './fanout.js';
import { type Part, RestartWrite } from './part.js';
import { type HandedPositions, ShardedTx, type ShardedTxDeps } from './sharded-tx.js';
import { WriteAttempt } from './write-attempt.js';

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
  const parts = new Map<number, Part>();
  const home = hint?.channelId !== undefined ? deps.servers[deps.map.serverOf(hint.channelId)] : undefined;
  // Entered synchronously, so a write for one channel reserves its part in call order.
  let release: () => void;
  let exclusive = home === undefined;
  if (home) {
    const shared = deps.gate.enterShared();
    release = shared.release;
    if (shared.ready) await shared.ready;
  } else {
    release = await deps.gate.enterExclusive();
  }
  let closing: unknown;
  try {
    for (let attempt = 1; ; attempt++) {
      const run = new WriteAttempt(parts, hint, exclusive || !home ? [] : [home], exclusive);
      const tx = new ShardedTx(deps, run, hint?.channelId);
      let value: T;
      try {
        value = await fn(tx);
        await run.commit();
      } catch (error) {
        const { again, reason } = await run.fail(error);
        const restart = again || (error instanceof RestartWrite && reason === error);
        if (!restart) {
          closing = reason;
          throw reason;
        }
        if (attempt >= MAX_ATTEMPTS) {
          closing = error;
          throw new NatterError(ErrorCode.CONFLICT, `write still conflicting after ${attempt} attempts`);
        }
        if (run.missing.size > 0 && !exclusive) {
          // A second server: run again alone in this process. Its parts end first: a server's batch
          // running them again waits for them, and the gate waits for that batch's other writes.
          for (const part of parts.values()) part.close(new RestartWrite('the write runs alone'));
          parts.clear();
          release();
          release = await deps.gate.enterExclusive();
          exclusive = true;
        }
        const delayMs = error instanceof RestartWrite ? error.delayMs : 0;
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        continue;
      }
      await settle(deps.fanouts, tx.handed);
      return value;
    }
  } finally {
    // Parts the last attempt did not use (a server ran them again meanwhile) end too.
    for (const part of parts.values()) part.close(closing ?? new RestartWrite('the write ended'));
    release();
  }
}

/** Copies the write's entries to their users' logs and rewrites the handed positions in place. */
async function settle(fanouts: readonly SourceFanout[], handed: HandedPositions): Promise<void> {
  await Promise.all(
    [...handed].map(async ([source, { lists, single }]) => {
      const wanted = lists.flatMap((list) => list.map((p) => ({ userId: p.userId, localPos: p.pos })));
      if (wanted.length === 0) return;
      const { positions } = await fanouts[source]!.settle(wanted);
      for (const s of single) {
        const pos = positions.get(copyKey(s.userId, s.localPos));
        if (pos !== undefined) s.set(pos);
      }
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
