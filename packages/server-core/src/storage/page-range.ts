import type { HistoryQuery } from '../ports/storage.js';

/** An inclusive seq range of a history page, and whether visible messages lie outside it. */
export interface PageRange {
  from: number;
  to: number;
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

/**
 * Computes the page for `query` over a channel whose seqs are exactly `1..lastSeq` (every adapter keeps
 * them gap-free, so plain arithmetic replaces a search). `from > to` means an empty page.
 *
 * `around` takes up to `floor(limit / 2)` messages before the anchor, the anchor, and the rest after
 * it; when one side runs short the other side fills the page up to `limit`.
 */
export function pageRange(lastSeq: number, query: HistoryQuery): PageRange {
  const lo = Math.max(1, Math.floor(query.minSeq));
  const hi = lastSeq;
  const limit = Math.max(0, Math.floor(query.limit));
  if (hi < lo) return { from: 1, to: 0, hasMoreBefore: false, hasMoreAfter: false };

  let from: number;
  let to: number;
  if (query.before !== undefined) {
    to = Math.min(hi, query.before - 1);
    from = Math.max(lo, to - limit + 1);
  } else if (query.after !== undefined) {
    from = Math.max(lo, query.after + 1);
    to = Math.min(hi, from + limit - 1);
  } else if (query.around !== undefined) {
    from = Math.max(lo, query.around - Math.floor(limit / 2));
    to = Math.min(hi, from + limit - 1);
    from = Math.max(lo, to - limit + 1);
  } else {
    to = hi;
    from = Math.max(lo, hi - limit + 1);
  }
  return { from, to, hasMoreBefore: from > lo, hasMoreAfter: to < hi };
}
