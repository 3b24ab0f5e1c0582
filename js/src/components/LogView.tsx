// A job's log window: level colours, virtualised lines, auto-scroll, older lines on scroll-up,
// and the tools of a log viewer: follow (with a "N new lines" pill while paused), level filter,
// search with highlight and next / previous, wrap, copy, and download of the whole log.

import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { keyDownPixels, reachedBottom, reachesBottom, scrollAfterAppend, scrollAfterPrepend, UP_KEYS, wheelPixels } from "../autoscroll";
import { saveText } from "../download";
import { formatClock } from "../format";
import { fetchWholeLog, filterLines, findMatches, LEVELS, logFileName, logText, splitMatches } from "../logtools";
import type { LogWindow } from "../state/logs";
import type { LogLevel, LogLine } from "../types";
import { computeWindow, RowOffsets } from "../virtual";

const LINE_HEIGHT = 18;
const MIN_HEIGHT = 40;
/** The height of the tools above a log box. */
export const LOG_TOOLS_HEIGHT = 30;

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
  /** One page of the log from the kernel: the last `limit` lines with seq < `before`. */
  fetchPage: (before: number | null, limit: number) => Promise<LogLine[]>;
}

function Message({ text, query }: { text: string; query: string }) {
  return (
    <span class="pw-line-msg">
      {splitMatches(text, query).map((part, i) => (part.match ? <mark key={i}>{part.text}</mark> : part.text))}
    </span>
  );
}

export function LogView({ window: win, height: maxHeight = 280, label, loadOlder, reloadTail, fetchPage }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const busy = useRef(false);
  const firstSeq = useRef<number | null>(null);
  const askedBottom = useRef(false); // a wheel turn or key reached past the bottom, no move up since
  const lastTop = useRef(0); // scrollTop at the previous scroll event
  const [scrollTop, setScrollTop] = useState(0);
  const [follow, setFollow] = useState(true);
  const [pausedAt, setPausedAt] = useState(0);
  const [hidden, setHidden] = useState<ReadonlySet<LogLevel>>(new Set());
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(0);
  const [wrap, setWrap] = useState(false);
  const [status, setStatus] = useState("");
  const lines = win?.lines ?? [];
  const shown = filterLines(lines, hidden);
  const matches = findMatches(shown, query);
  const lastSeq = lines.length ? lines[lines.length - 1][0] : 0;
  const newLines = follow ? 0 : Math.max(0, lastSeq - pausedAt);
  const height = logBoxHeight(shown.length, maxHeight);

  const setFollowing = (on: boolean) => {
    following.current = on;
    askedBottom.current = on && askedBottom.current;
    if (on !== follow) {
      setFollow(on);
      if (!on) setPausedAt(lastSeq);
    }
  };

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = shown.length ? shown[0][0] : null;
    const previousFirst = firstSeq.current;
    firstSeq.current = first;
    if (first != null && previousFirst != null && first < previousFirst && !following.current) {
      const added = shown.findIndex((l) => l[0] === previousFirst);
      if (added > 0 && !wrap) el.scrollTop = scrollAfterPrepend(el.scrollTop, added * LINE_HEIGHT);
    } else {
      el.scrollTop = scrollAfterAppend(following.current, el.scrollTop, el.scrollHeight, el.clientHeight);
    }
    setScrollTop(el.scrollTop);
  }, [lines, hidden, wrap]);

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
    if (el.scrollTop < lastTop.current) askedBottom.current = false; // the reader moved up
    lastTop.current = el.scrollTop;
    setFollowing(reachedBottom(el.scrollTop, el.scrollHeight, el.clientHeight, askedBottom.current));
    setScrollTop(el.scrollTop);
    if (el.scrollTop < LINE_HEIGHT * 2 && win?.hasOlder && lines.length) run(() => loadOlder(lines[0][0]));
    if (following.current && win?.detached) run(reloadTail);
  };

  const toEnd = () => {
    const el = ref.current;
    setFollowing(true);
    askedBottom.current = true;
    if (el) el.scrollTop = el.scrollHeight;
    if (win?.detached) run(reloadTail);
  };

  const goTo = (step: number) => {
    if (!matches.length) return;
    const next = (current + step + matches.length) % matches.length;
    setCurrent(next);
    setFollowing(false);
    const el = ref.current;
    if (!el) return;
    if (wrap) el.querySelector(`[data-seq="${shown[matches[next]][0]}"]`)?.scrollIntoView({ block: "center" });
    else el.scrollTop = Math.max(0, matches[next] * LINE_HEIGHT - el.clientHeight / 2);
  };

  const toggleLevel = (level: LogLevel) =>
    setHidden((h) => {
      const next = new Set(h);
      if (next.has(level)) next.delete(level);
      else next.add(level);
      return next;
    });

  const copy = () =>
    navigator.clipboard
      .writeText(logText(shown))
      .then(() => setStatus(`Copied ${shown.length} lines`))
      .catch(() => setStatus("Cannot copy: the browser refused access to the clipboard"));

  const download = () => {
    setStatus("Downloading...");
    fetchWholeLog(fetchPage)
      .then((all) => {
        saveText(logFileName(label), logText(all));
        setStatus(`Downloaded ${all.length} lines`);
      })
      .catch((e: Error) => setStatus(`Cannot download: ${e.message}`));
  };

  const currentSeq = matches.length ? shown[matches[Math.min(current, matches.length - 1)]][0] : null;
  const row = ([seq, time, level, message]: LogLine) => (
    <div key={seq} class={`pw-line pw-lvl-${level}${seq === currentSeq ? " pw-line-current" : ""}`} data-seq={seq}>
      <span class="pw-line-time">{formatClock(time)}</span>
      <span class="pw-line-level">{level}</span>
      <Message text={message} query={query} />
    </div>
  );
  let body;
  if (!lines.length) {
    body = <div class="pw-log-empty-text">Waiting for logs...</div>;
  } else if (wrap) {
    body = shown.map(row);
  } else {
    const view = computeWindow(new RowOffsets(shown.length, LINE_HEIGHT), scrollTop, height, 10);
    body = (
      <>
        <div style={{ height: `${view.padTop}px` }} aria-hidden="true" />
        {shown.slice(view.start, view.end).map(row)}
        <div style={{ height: `${view.padBottom}px` }} aria-hidden="true" />
      </>
    );
  }
  return (
    <div class="pw-logview">
      <div class="pw-log-tools" role="toolbar" aria-label={`${label}: tools`}>
        <button type="button" class="pw-chip" aria-pressed={follow} title="Keep the newest line in view" onClick={() => (follow ? setFollowing(false) : toEnd())}>
          Follow
        </button>
        <span class="pw-chips" role="group" aria-label="Levels shown">
          {LEVELS.map((level) => (
            <button type="button" key={level} class="pw-chip" aria-pressed={!hidden.has(level)} onClick={() => toggleLevel(level)}>
              {level}
            </button>
          ))}
        </span>
        <input
          type="search"
          class="pw-log-search"
          placeholder="Search"
          aria-label="Search the log"
          value={query}
          onInput={(e) => {
            setQuery((e.currentTarget as HTMLInputElement).value);
            setCurrent(0);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") goTo(e.shiftKey ? -1 : 1);
          }}
        />
        <span class="pw-muted pw-small" aria-live="polite">
          {query ? `${matches.length ? current + 1 : 0}/${matches.length}` : ""}
        </span>
        <button type="button" class="pw-chip" aria-label="Previous match" disabled={!matches.length} onClick={() => goTo(-1)}>
          ↑
        </button>
        <button type="button" class="pw-chip" aria-label="Next match" disabled={!matches.length} onClick={() => goTo(1)}>
          ↓
        </button>
        <button type="button" class="pw-chip" aria-pressed={wrap} onClick={() => setWrap((w) => !w)}>
          Wrap
        </button>
        <button type="button" class="pw-chip" onClick={copy}>
          Copy
        </button>
        <button type="button" class="pw-chip" title="Save every line of this log as a text file" onClick={download}>
          Download
        </button>
        <span class="pw-muted pw-small" role="status">
          {status}
        </span>
      </div>
      <div class="pw-log-box">
        <div
          ref={ref}
          class={`pw-log${wrap ? " pw-log-wrap" : ""}${lines.length ? "" : " pw-log-empty"}`}
          style={{ height: `${height}px` }}
          role="log"
          aria-label={label}
          aria-live="off"
          tabIndex={0}
          onScroll={onScroll}
          onWheel={(e) => {
            const el = e.currentTarget;
            const delta = wheelPixels(e.deltaY, e.deltaMode, LINE_HEIGHT, el.clientHeight);
            if (delta < 0) askedBottom.current = false;
            else if (reachesBottom(delta, el.scrollTop, el.scrollHeight, el.clientHeight)) askedBottom.current = true;
          }}
          onKeyDown={(e) => {
            const el = e.currentTarget;
            if (UP_KEYS.has(e.key)) askedBottom.current = false;
            else if (reachesBottom(keyDownPixels(e.key, LINE_HEIGHT, el.clientHeight), el.scrollTop, el.scrollHeight, el.clientHeight)) askedBottom.current = true;
          }}
        >
          {body}
        </div>
        {newLines > 0 && (
          <button type="button" class="pw-newlines" onClick={toEnd}>
            {`${newLines} new line${newLines === 1 ? "" : "s"} ↓`}
          </button>
        )}
      </div>
    </div>
  );
}
