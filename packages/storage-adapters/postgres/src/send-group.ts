import type { CheckedAppendResult, CheckedSend } from '@natter/server-core';
import { type MessageRow, toMessage } from './rows.js';
import { encodeText } from './text.js';

/** A row of `send_checked`: the message columns are null for `not_member`. */
export interface SendCheckedRow extends Omit<MessageRow, 'seq' | 'text' | 'mentions' | 'created_at'> {
  n: number;
  outcome: 'appended' | 'duplicate' | 'not_member';
  seq: number | null;
  text: string | null;
  mentions: string | null;
  created_at: number | null;
  sender_pos: number | null;
  user_ids: string[] | null;
  positions: number[] | null;
}

/** The parallel arrays `send_checked` takes, one element per send. */
export function sendCheckedValues(sends: readonly CheckedSend[]): unknown[] {
  return [
    sends.map((send) => send.channelId),
    sends.map((send) => send.senderId),
    sends.map((send) => send.clientMsgId),
    sends.map((send) => send.id),
    sends.map((send) => encodeText(send.text)),
    sends.map((send) => JSON.stringify(send.mentions)),
    sends.map((send) => send.createdAt),
  ];
}

/**
 * Splits sends into runs that `send_checked` can take in one call: a sender's key appears at most once
 * per run, so a repeated key (a retry that arrived while the first attempt was still queued) is checked
 * after the first one is stored and comes back as its duplicate.
 */
export function splitByKey<T extends { send: CheckedSend }>(pending: readonly T[]): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let keys = new Set<string>();
  for (const item of pending) {
    const key = `${item.send.senderId}\u0000${item.send.clientMsgId}`;
    if (keys.has(key)) {
      runs.push(run);
      run = [];
      keys = new Set();
    }
    keys.add(key);
    run.push(item);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Maps the rows of one `send_checked` call to each send's result, in send order. */
export function toCheckedResults(rows: readonly SendCheckedRow[], count: number): CheckedAppendResult[] {
  const results: Array<CheckedAppendResult | undefined> = new Array(count);
  for (const row of rows) results[row.n - 1] = toCheckedResult(row);
  return results.map((result, i) => {
    if (!result) throw new Error(`send_checked returned no row for send ${i + 1} of ${count}`);
    return result;
  });
}

function toCheckedResult(row: SendCheckedRow): CheckedAppendResult {
  if (row.outcome === 'not_member') return { kind: 'notMember' };
  const message = toMessage(row as MessageRow);
  if (row.outcome === 'duplicate') return { kind: 'duplicate', message, senderPos: row.sender_pos ?? 0 };
  const userIds = row.user_ids ?? [];
  const positions = row.positions ?? [];
  return {
    kind: 'appended',
    appended: { message, positions: userIds.map((userId, i) => ({ userId, pos: positions[i]! })) },
  };
}
