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

/**
 * Where each row of a list starts, for rows of one height except a few taller ones (expanded
 * cards): made at the cost of the tall rows, not of the list (100,000 rows change their count
 * several times a second while a cohort runs).
 */
export class RowOffsets {
  /** The tall rows' indices, ascending, and the extra height above each one's end. */
  private readonly tall: number[];
  private readonly extraTo: number[];
  readonly total: number;

  /** `count` rows of `rowHeight`, but those in `tall` (index -> height) that are in the list. */
  constructor(
    readonly count: number,
    readonly rowHeight: number,
    tall: ReadonlyMap<number, number> = new Map(),
  ) {
    this.tall = [...tall.keys()].filter((i) => i >= 0 && i < count).sort((a, b) => a - b);
    let extra = 0;
    this.extraTo = this.tall.map((i) => (extra += (tall.get(i) ?? rowHeight) - rowHeight));
    this.total = count * rowHeight + extra;
  }

  /** The top of row `i` (`count` gives the total). */
  top(i: number): number {
    // the tall rows before i: their extra height is above row i's top
    let lo = 0;
    let hi = this.tall.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tall[mid] < i) lo = mid + 1;
      else hi = mid;
    }
    return i * this.rowHeight + (lo ? this.extraTo[lo - 1] : 0);
  }

  /** The row that contains pixel `y` (clamped to the rows). */
  rowAt(y: number): number {
    let lo = 0;
    let hi = this.count - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.top(mid) <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * The rows to render for a scroll position: those intersecting the viewport plus `overscan`
 * rows on each side. Only these go into the DOM; spacers stand in for the rest.
 */
export function computeWindow(offsets: RowOffsets, scrollTop: number, viewportHeight: number, overscan = 4): VirtualWindow {
  const { count, total } = offsets;
  if (count <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0, total: 0 };
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, total - viewportHeight)));
  const first = offsets.rowAt(top);
  const last = offsets.rowAt(top + Math.max(0, viewportHeight - 1));
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, last + 1 + overscan);
  return { start, end, padTop: offsets.top(start), padBottom: total - offsets.top(end), total };
}
