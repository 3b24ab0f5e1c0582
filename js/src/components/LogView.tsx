// A job's log window: level colours, virtualised lines, auto-scroll, older lines on scroll-up.

import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { isAtBottom, scrollAfterAppend, scrollAfterPrepend } from "../autoscroll";
import { formatClock } from "../format";
import type { LogWindow } from "../state/logs";
import { computeWindow, fixedOffsets } from "../virtual";

const LINE_HEIGHT = 18;
const MIN_HEIGHT = 40;

/** A log box grows with its lines, from two lines' height up to `max` (then it scrolls). */
export function logBoxHeight(lines: number, max: number): number {
  return Math.min(max, Math.max(MIN_HEIGHT, lines * LINE_HEIGHT + 2));
}

interface Props {
  window: LogWindow | undefined;
  /** The most the box grows to, in pixels. */
  height?: number;
  label: string;
  loadOlder: (before: number) => Promise<void>;
  reloadTail: () => Promise<void>;
}

export function LogView({ window: win, height: maxHeight = 280, label, loadOlder, reloadTail }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const busy = useRef(false);
  const firstSeq = useRef<number | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const lines = win?.lines ?? [];
  const height = logBoxHeight(lines.length, maxHeight);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = lines.length ? lines[0][0] : null;
    const previousFirst = firstSeq.current;
    firstSeq.current = first;
    if (first != null && previousFirst != null && first < previousFirst && !following.current) {
      const added = lines.findIndex((l) => l[0] === previousFirst);
      if (added > 0) el.scrollTop = scrollAfterPrepend(el.scrollTop, added * LINE_HEIGHT);
    } else {
      el.scrollTop = scrollAfterAppend(following.current, el.scrollTop, el.scrollHeight, el.clientHeight);
    }
    setScrollTop(el.scrollTop);
  }, [lines]);

  const run = (load: () => Promise<void>) => {
    if (busy.current) return;
    busy.current = true;
    load().finally(() => {
      busy.current = false;
    });
  };

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    following.current = isAtBottom(el.scrollTop, el.scrollHeight, el.clientHeight);
    setScrollTop(el.scrollTop);
    if (el.scrollTop < LINE_HEIGHT * 2 && win?.hasOlder && lines.length) run(() => loadOlder(lines[0][0]));
    if (following.current && win?.detached) run(reloadTail);
  };

  if (!lines.length) {
    return (
      <div class="pw-log pw-log-empty" style={{ height: `${height}px` }} role="log" aria-label={label}>
        Waiting for logs...
      </div>
    );
  }
  const view = computeWindow(fixedOffsets(lines.length, LINE_HEIGHT), scrollTop, height, 10);
  const rows = [];
  for (let i = view.start; i < view.end; i++) {
    const [seq, time, level, message] = lines[i];
    rows.push(
      <div key={seq} class={`pw-line pw-lvl-${level}`} data-seq={seq}>
        <span class="pw-line-time">{formatClock(time)}</span>
        <span class="pw-line-level">{level}</span>
        <span class="pw-line-msg">{message}</span>
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      class="pw-log"
      style={{ height: `${height}px` }}
      role="log"
      aria-label={label}
      aria-live="off"
      tabIndex={0}
      onScroll={onScroll}
    >
      <div style={{ height: `${view.padTop}px` }} aria-hidden="true" />
      {rows}
      <div style={{ height: `${view.padBottom}px` }} aria-hidden="true" />
    </div>
  );
}
