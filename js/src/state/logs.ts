// Bounded windows of log lines, one per job a view shows.
//
// A window holds at most `max` consecutive lines. New lines are appended (skipping any the
// window already has, by seq) and the oldest fall off the top; older lines fetched when the
// reader scrolls up go on top and, past `max`, the newest fall off the bottom: the window is
// then "detached" from the live end and ignores new lines until it is reloaded from the tail.

import type { PartReducer } from "../sync";
import type { LogLine } from "../types";

export const MAX_LINES = 2000;

export interface LogWindow {
  lines: LogLine[];
  /** Lines before the first one exist (seq starts at 1 without gaps). */
  hasOlder: boolean;
  /** The newest lines were dropped to make room for older ones. */
  detached: boolean;
}

export function fromTail(lines: LogLine[]): LogWindow {
  return { lines, hasOlder: lines.length > 0 && lines[0][0] > 1, detached: false };
}

export function appendLines(window: LogWindow, incoming: LogLine[], max = MAX_LINES): LogWindow {
  if (window.detached || incoming.length === 0) return window;
  const last = window.lines.length ? window.lines[window.lines.length - 1][0] : 0;
  const fresh = incoming.filter((line) => line[0] > last);
  if (fresh.length === 0) return window;
  let lines = window.lines.concat(fresh);
  if (lines.length > max) lines = lines.slice(lines.length - max);
  return { lines, hasOlder: lines[0][0] > 1, detached: false };
}

export function prependLines(window: LogWindow, older: LogLine[], max = MAX_LINES): LogWindow {
  const first = window.lines.length ? window.lines[0][0] : Infinity;
  const fresh = older.filter((line) => line[0] < first);
  if (fresh.length === 0) return { ...window, hasOlder: false };
  let lines = fresh.concat(window.lines);
  const detached = window.detached || lines.length > max;
  if (lines.length > max) lines = lines.slice(0, max);
  return { lines, hasOlder: lines[0][0] > 1, detached };
}

export type LogsState = Record<string, LogWindow>;

interface LogsSnapshot {
  tails: Record<string, LogLine[]>;
}

interface LogsPatch {
  lines?: Record<string, LogLine[]>;
}

/** Windows come from the snapshot (a pinned job's tail) or from this view's `watch` replies. */
export const logsReducer: PartReducer<LogsState> = {
  init(snapshot: LogsSnapshot, previous) {
    const state: LogsState = { ...(previous ?? {}) };
    for (const [jobId, lines] of Object.entries(snapshot?.tails ?? {})) state[jobId] = fromTail(lines);
    return state;
  },
  patch(state, patch: LogsPatch) {
    let next: LogsState | null = null;
    for (const [jobId, lines] of Object.entries(patch.lines ?? {})) {
      const window = state[jobId];
      if (!window) continue; // a job another view watches
      const updated = appendLines(window, lines);
      if (updated !== window) {
        next ??= { ...state };
        next[jobId] = updated;
      }
    }
    return next ?? state;
  },
};
