import type { HistoryPage, HistoryQuery } from '@natter/server-core';
import { type MessageRow, toMessage } from './rows.js';

/** Rows of one thread with `from <= seq <= to`, at most `n`, in the statement's order. */
type RangeRead = (from: number, to: number, n: number) => Promise<MessageRow[]>;

/** Largest seq, as an open upper bound of a range (bigint holds it; seqs stay far below). */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * One page of a thread's replies, anchored like channel history (the SQLite adapter pages the same way):
 * the `limit` visible replies (seq >= minSeq) closest to the anchor; `around` takes up to
 * `floor(limit / 2)` before the anchor and the rest from it on, filling a short side from the other.
 * A thread's seqs have gaps (channel messages lie between replies), so the page is read, not computed.
 */
export async function readThreadPage(
  ascending: RangeRead,
  descending: RangeRead,
  query: HistoryQuery,
): Promise<HistoryPage> {
  const lo = Math.max(1, Math.floor(query.minSeq));
  const limit = Math.max(0, Math.floor(query.limit));
  const up = (from: number, to: number, n: number) =>
    to < Math.max(lo, from) || n === 0 ? Promise.resolve([]) : ascending(Math.max(lo, from), to, n);
  const down = async (from: number, to: number, n: number) =>
    to < Math.max(lo, from) || n === 0 ? [] : (await descending(Math.max(lo, from), to, n)).reverse();
  const anyIn = async (from: number, to: number) => (await up(from, to, 1)).length > 0;

  let rows: MessageRow[];
  let split: number; // for an empty page: visible seqs below `split` lie before it
  if (query.before !== undefined) {
    rows = await down(lo, query.before - 1, limit);
    split = query.before;
  } else if (query.after !== undefined) {
    rows = await up(query.after + 1, MAX_SEQ, limit);
    split = query.after + 1;
  } else if (query.around !== undefined) {
    const [older, newer] = await Promise.all([
      down(lo, query.around - 1, limit),
      up(query.around, MAX_SEQ, limit),
    ]);
    const newerCount = Math.min(newer.length, limit - Math.min(older.length, Math.floor(limit / 2)));
    const olderCount = Math.min(older.length, limit - newerCount);
    rows = [...older.slice(older.length - olderCount), ...newer.slice(0, newerCount)];
    split = query.around;
  } else {
    rows = await down(lo, MAX_SEQ, limit);
    split = MAX_SEQ;
  }
  const first = rows[0]?.seq ?? split;
  const last = rows.at(-1)?.seq ?? split - 1;
  const [hasMoreBefore, hasMoreAfter] = await Promise.all([
    first > lo ? anyIn(lo, first - 1) : Promise.resolve(false),
    anyIn(Math.max(lo, last + 1), MAX_SEQ),
  ]);
  return { messages: rows.map(toMessage), hasMoreBefore, hasMoreAfter };
}
