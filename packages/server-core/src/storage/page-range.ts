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

/**
 * A history page over a list that is sorted by seq but not gap-free (a thread's replies): the anchors are
 * seqs as for {@link pageRange}, translated to positions in the list, so both page the same way.
 */
export function pageOfSorted<T extends { seq: number }>(
  sorted: readonly T[],
  query: HistoryQuery,
): { items: T[]; hasMoreBefore: boolean; hasMoreAfter: boolean } {
  /** 1-based position of the first item with a seq of at least `seq` (n + 1 when none). */
  const positionOf = (seq: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  const translated: HistoryQuery = { limit: query.limit, minSeq: positionOf(query.minSeq) };
  if (query.before !== undefined) translated.before = positionOf(query.before);
  else if (query.after !== undefined) translated.after = positionOf(query.after + 1) - 1;
  else if (query.around !== undefined) translated.around = positionOf(query.around);
  const range = pageRange(sorted.length, translated);
  return {
    items: range.from <= range.to ? sorted.slice(range.from - 1, range.to) : [],
    hasMoreBefore: range.hasMoreBefore,
    hasMoreAfter: range.hasMoreAfter,
  };
}
