// A scrolling list that puts only the rows near the viewport into the DOM.

import type { AriaRole, ComponentChildren, RefObject } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { computeWindow, RowOffsets } from "../virtual";

interface Props {
  /** How many rows, their height in pixels, and the heights of the few taller ones (index -> px). */
  count: number;
  rowHeight: number;
  tall?: ReadonlyMap<number, number>;
  height: number;
  renderRow: (index: number) => ComponentChildren;
  label: string;
  role?: AriaRole;
  className?: string;
  /** Drawn above the rows inside the scroller (e.g. a sticky header row), and when there are none. */
  header?: ComponentChildren;
  empty?: ComponentChildren;
  /** The scroller element, for a caller that follows its horizontal scroll. */
  scrollRef?: RefObject<HTMLDivElement | null>;
  onScroll?: () => void;
  /** Told the first and last rows in the viewport (indices) whenever they change. */
  onRange?: (first: number, last: number) => void;
  attrs?: Record<string, string | number>;
}

export function VirtualList({ count, rowHeight, tall, height, renderRow, label, role = "list", className, header, empty, scrollRef, onScroll, onRange, attrs }: Props) {
  const own = useRef<HTMLDivElement>(null);
  const ref = scrollRef ?? own;
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(height);
  const offsets = useMemo(() => new RowOffsets(count, rowHeight, tall), [count, rowHeight, tall]);
  useLayoutEffect(() => {
    if (ref.current) setViewport(ref.current.clientHeight || height);
  }, [height]);
  const win = computeWindow(offsets, scrollTop, viewport);
  const seen = computeWindow(offsets, scrollTop, viewport, 0);
  const last = Math.max(seen.start, seen.end - 1);
  useEffect(() => {
    if (count) onRange?.(seen.start, last);
  }, [seen.start, last, count > 0]);
  const rows: ComponentChildren[] = [];
  for (let i = win.start; i < win.end; i++) rows.push(renderRow(i));
  return (
    <div
      ref={ref}
      class={`pw-scroll ${className ?? ""}`}
      style={{ maxHeight: `${height}px` }}
      role={role}
      aria-label={label}
      {...attrs}
      onScroll={(e) => {
        setScrollTop((e.currentTarget as HTMLElement).scrollTop);
        onScroll?.();
      }}
    >
      {header}
      {count === 0 && empty}
      <div style={{ height: `${win.padTop}px` }} aria-hidden="true" />
      {rows}
      <div style={{ height: `${win.padBottom}px` }} aria-hidden="true" />
    </div>
  );
}
