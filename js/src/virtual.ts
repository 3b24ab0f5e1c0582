// Windowing: which rows of a long list are in (or near) the viewport.

export interface VirtualWindow {
  /** First row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
  /** Space above the first rendered row, in pixels. */
  padTop: number;
  /** Space below the last rendered row, in pixels. */
  padBottom: number;
  /** Height of the whole list, in pixels. */
  total: number;
}

/** Offsets of each row's top, plus the total height at the end (length = sizes.length + 1). */
export function prefixSums(sizes: ArrayLike<number>): Float64Array {
  const out = new Float64Array(sizes.length + 1);
  for (let i = 0; i < sizes.length; i++) out[i + 1] = out[i] + sizes[i];
  return out;
}

/** Index of the row that contains pixel `y` (clamped to the rows). */
function rowAt(offsets: Float64Array, y: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The rows to render for a scroll position: those intersecting the viewport plus `overscan`
 * rows on each side. Only these go into the DOM; spacers stand in for the rest.
 */
export function computeWindow(
  offsets: Float64Array,
  scrollTop: number,
  viewportHeight: number,
  overscan = 4,
): VirtualWindow {
  const count = offsets.length - 1;
  const total = offsets[count] ?? 0;
  if (count <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0, total: 0 };
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, total - viewportHeight)));
  const first = rowAt(offsets, top);
  const last = rowAt(offsets, top + Math.max(0, viewportHeight - 1));
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, last + 1 + overscan);
  return { start, end, padTop: offsets[start], padBottom: total - offsets[end], total };
}

/** Shortcut for lists whose rows all have the same height. */
export function fixedOffsets(count: number, rowHeight: number): Float64Array {
  const out = new Float64Array(count + 1);
  for (let i = 0; i <= count; i++) out[i] = i * rowHeight;
  return out;
}
