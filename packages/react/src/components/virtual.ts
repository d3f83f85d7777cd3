import { type RefObject, useCallback, useLayoutEffect, useRef, useState } from 'react';

/** The rows to render and the space to leave above and below them. */
export interface VirtualWindow {
  start: number;
  end: number;
  padTop: number;
  padBottom: number;
}

/**
 * Windowing for a vertical list of rows of varying height: rows are measured once rendered (a
 * `ResizeObserver` on elements with `data-row-key`), others count with an estimate; only the rows within
 * `overscanPx` of the viewport are rendered. Measurements are kept by key, so prepending older rows keeps them.
 */
export function useVirtualWindow(
  scroller: RefObject<HTMLElement | null>,
  keys: readonly string[],
  estimate: (index: number) => number,
  overscanPx = 800,
): { window: VirtualWindow; offsetOf(key: string): number | undefined; total: number; onScroll(): void } {
  const heights = useRef(new Map<string, number>());
  const [, setVersion] = useState(0);
  const [view, setView] = useState({ top: 0, height: 0 });

  const offsets: number[] = new Array(keys.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < keys.length; i++) {
    offsets[i + 1] = (offsets[i] ?? 0) + (heights.current.get(keys[i] ?? '') ?? estimate(i));
  }
  const total = offsets[keys.length] ?? 0;
  // Without layout (server rendering, tests without a layout engine) the viewport reads as 0 tall.
  const height = view.height || 800;
  const from = Math.max(0, view.top - overscanPx);
  const to = view.top + height + overscanPx;
  let start = lowerBound(offsets, from) - 1;
  start = Math.max(0, Math.min(start, keys.length));
  let end = start;
  while (end < keys.length && (offsets[end] ?? 0) < to) end++;

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    setView((v) =>
      v.top === el.scrollTop && v.height === el.clientHeight
        ? v
        : { top: el.scrollTop, height: el.clientHeight },
    );
  }, [scroller]);

  // Measure the rendered rows; a changed height re-renders with the new offsets.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const key = (entry.target as HTMLElement).dataset.rowKey;
        const measured = Math.round(entry.borderBoxSize?.[0]?.blockSize ?? entry.contentRect.height);
        if (key === undefined || measured === 0 || heights.current.get(key) === measured) continue;
        heights.current.set(key, measured);
        changed = true;
      }
      if (changed) setVersion((v) => v + 1);
    });
    for (const row of el.querySelectorAll<HTMLElement>('[data-row-key]')) observer.observe(row);
    return () => observer.disconnect();
  });

  useLayoutEffect(onScroll, [onScroll]);

  const offsetOf = (key: string) => {
    const index = keys.indexOf(key);
    return index < 0 ? undefined : offsets[index];
  };
  return {
    window: { start, end, padTop: offsets[start] ?? 0, padBottom: total - (offsets[end] ?? total) },
    offsetOf,
    total,
    onScroll,
  };
}

/** The first index whose value is at least `value` (the array is ascending). */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
