import type { AppendedMessage, CheckedAppendResult, CheckedSend, NewMessage } from '@natter/server-core';
import { ErrorCode, NatterError } from '@natter/server-core';
import { type MessageRow, toMessage } from './rows.js';
import { encodeText } from './text.js';

/** One append of a group: a user's send (`appendChecked`) or a plain `appendMessage`. */
export type AppendOp =
  | { kind: 'checked'; send: CheckedSend }
  | { kind: 'plain'; message: NewMessage; recipientIds: readonly string[] };

/** A row of `append_group`: the message columns are null unless the outcome carries a message. */
export interface AppendGroupRow extends Omit<MessageRow, 'seq' | 'text' | 'mentions' | 'created_at'> {
  n: number;
  outcome: 'appended' | 'duplicate' | 'not_member' | 'conflict' | 'not_found';
  seq: number | null;
  text: string | null;
  mentions: string | null;
  created_at: number | null;
  sender_pos: number | null;
  user_ids: string[] | null;
  positions: number[] | null;
}

/** The parallel arrays `append_group` takes, one element per op. */
export function appendGroupValues(ops: readonly AppendOp[]): unknown[] {
  const rows = ops.map((op) => {
    if (op.kind === 'checked') {
      const { send } = op;
      return [
        true,
        send.channelId,
        send.id,
        send.senderId,
        send.clientMsgId,
        'text',
        encodeText(send.text),
        JSON.stringify(send.mentions),
        null,
        send.createdAt,
        null,
      ] as const;
    }
    const { message } = op;
    return [
      false,
      message.channelId,
      message.id,
      message.senderId,
      message.clientMsgId,
      message.kind,
      encodeText(message.text),
      JSON.stringify(message.mentions),
      message.system === null ? null : JSON.stringify(message.system),
      message.createdAt,
      JSON.stringify(op.recipientIds),
    ] as const;
  });
  return Array.from({ length: 11 }, (_, column) => rows.map((row) => row[column]));
}

/** The idempotency key of an op, if it has one. */
function keyOf(op: AppendOp): string | undefined {
  if (op.kind === 'checked') return `${op.send.senderId}\u0000${op.send.clientMsgId}`;
  const { senderId, clientMsgId } = op.message;
  return clientMsgId === null ? undefined : `${senderId}\u0000${clientMsgId}`;
}

/**
 * Splits ops into runs that `append_group` can take in one call: a sender's key appears at most once
 * per run, so a repeated key (a retry that arrived while the first attempt was still queued) is checked
 * after the first one is stored.
 */
export function splitByKey<T extends { op: AppendOp }>(pending: readonly T[]): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let keys = new Set<string>();
  for (const item of pending) {
    const key = keyOf(item.op);
    if (key !== undefined && keys.has(key)) {
      runs.push(run);
      run = [];
      keys = new Set();
    }
    if (key !== undefined) keys.add(key);
    run.push(item);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * Each op's result from the rows of its `append_group` call: a result, or the error its caller gets
 * (`appendMessage` rejects with CONFLICT or NOT_FOUND, as the port says).
 */
export function toOpResults(
  ops: readonly AppendOp[],
  rows: readonly AppendGroupRow[],
): Array<{ ok: true; value: CheckedAppendResult | AppendedMessage } | { ok: false; error: NatterError }> {
  const byN = new Map(rows.map((row) => [row.n, row]));
  return ops.map((op, i) => {
    const row = byN.get(i + 1);
    if (!row) throw new Error(`append_group returned no row for append ${i + 1} of ${ops.length}`);
    if (row.outcome === 'conflict') {
      return {
        ok: false,
        error: new NatterError(ErrorCode.CONFLICT, 'the sender already used this clientMsgId'),
      };
    }
    if (row.outcome === 'not_found') {
      return {
        ok: false,
        error: new NatterError(ErrorCode.NOT_FOUND, `channel ${row.channel_id} does not exist`),
      };
    }
    if (row.outcome === 'not_member') return { ok: true, value: { kind: 'notMember' } };
    const message = toMessage(row as MessageRow);
    if (row.outcome === 'duplicate') {
      return { ok: true, value: { kind: 'duplicate', message, senderPos: row.sender_pos ?? 0 } };
    }
    const userIds = row.user_ids ?? [];
    const positions = row.positions ?? [];
    const appended: AppendedMessage = {
      message,
      positions: userIds.map((userId, j) => ({ userId, pos: positions[j]! })),
    };
    return { ok: true, value: op.kind === 'checked' ? { kind: 'appended', appended } : appended };
  });
}
