// A scrolling list that puts only the rows near the viewport into the DOM.

import type { AriaRole, ComponentChildren } from "preact";
import { useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { computeWindow, prefixSums } from "../virtual";

interface Props {
  /** Height of each row in pixels (rows have fixed heights). */
  sizes: number[];
  height: number;
  renderRow: (index: number) => ComponentChildren;
  label: string;
  role?: AriaRole;
  className?: string;
}

export function VirtualList({ sizes, height, renderRow, label, role = "list", className }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(height);
  const offsets = useMemo(() => prefixSums(sizes), [sizes]);
  useLayoutEffect(() => {
    if (ref.current) setViewport(ref.current.clientHeight || height);
  }, [height]);
  const win = computeWindow(offsets, scrollTop, viewport);
  const rows: ComponentChildren[] = [];
  for (let i = win.start; i < win.end; i++) rows.push(renderRow(i));
  return (
    <div
      ref={ref}
      class={`pw-scroll ${className ?? ""}`}
      style={{ maxHeight: `${height}px` }}
      role={role}
      aria-label={label}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLElement).scrollTop)}
    >
      <div style={{ height: `${win.padTop}px` }} aria-hidden="true" />
      {rows}
      <div style={{ height: `${win.padBottom}px` }} aria-hidden="true" />
    </div>
  );
}
