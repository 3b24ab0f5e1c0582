// The history feed: per-stage analytics (recomputed by the kernel as jobs end) and the pure
// parts of the plots drawn from them. The table's rows are not state: each page is a request.

import type { Analytics, HistoryPatch, HistorySnapshot, HistoryTableRow } from "../protocol";
import type { PartReducer } from "../sync";

export type { Analytics, FailureGroupRow, StageStatsRow } from "../protocol";

export interface HistoryState {
  stages: Record<string, string>;
  analytics: Analytics;
}

const EMPTY: Analytics = { runs: 0, stats: [], durations: {}, failures: { start: null, width: null, roots: [], skipped: [] }, groups: [] };

export const historyReducer: PartReducer<HistoryState, HistorySnapshot, HistoryPatch> = {
  init(snapshot) {
    return { stages: snapshot?.stages ?? {}, analytics: snapshot?.analytics ?? EMPTY };
  },
  patch(state, patch) {
    return patch.analytics ? { ...state, analytics: patch.analytics } : state;
  },
};

/** One row of the history table (pbrain_widgets/widgets/feeds/history.py). */
export type HistoryRow = HistoryTableRow;

/** About `count` round tick values from 0 to at least `max` (1, 2 or 5 times a power of ten). */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const v = Number((i * step).toPrecision(12));
    ticks.push(v);
    if (v >= max) return ticks;
  }
}

/** The stages that have run times to draw, in the order of the stage statistics. */
export function durationRows(analytics: Analytics): { stage_id: string; label: string; n: number; q: number[] }[] {
  return analytics.stats.filter((s) => analytics.durations[s.stage_id]).map((s) => ({ stage_id: s.stage_id, label: s.label, ...analytics.durations[s.stage_id] }));
}

/** An axis label for a duration: milliseconds below 10 s ticks, else as durations read. */
export function axisDuration(seconds: number, top: number, format: (s: number) => string): string {
  if (top < 10) return `${Number((seconds * (top < 1 ? 1000 : 1)).toPrecision(3))} ${top < 1 ? "ms" : "s"}`;
  return format(seconds);
}

/** `1–50 of 1,234`, or `no jobs`. */
export function pageLabel(offset: number, shown: number, total: number): string {
  if (!total) return "no jobs";
  return `${(offset + 1).toLocaleString("en")}–${(offset + shown).toLocaleString("en")} of ${total.toLocaleString("en")}`;
}
