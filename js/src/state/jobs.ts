// The jobs feed as one JobMonitor view holds it: counts and names for the whole scope, and the
// rows of its own window of the listing, which the kernel lists and sorts (jobs_window).
//
// A view holds only the rows its window names (a few hundred of a 100,000-job scope), so a patch
// costs what the window holds; the state is replaced, not mutated, on every change.

import type { Actionable, JobsEnded, JobsPatch, JobsSnapshot, JobsWindow, JobsWindowReply, JobTable } from "../protocol";
import type { PartReducer } from "../sync";
import { JOB_STATUSES, type JobRow, type JobStatus, type RunRow } from "../types";
import { applyChanges, rowsOf } from "./rows";

export type Counts = Record<JobStatus | "all", number>;

/** The view's window of its listing, as the kernel last sent it. */
export interface WindowState {
  /** The `asked` it answers; -1 before the first (windows answering older requests are ignored). */
  asked: number;
  /** The place of `seqs[0]` in the listing. */
  offset: number;
  /** Rows in the whole listing. */
  listed: number;
  /** The rows offset.. of the listing, by seq (a row not held yet is drawn as a placeholder). */
  seqs: number[];
  /** Job id -> its earlier attempts' ids, newest first. */
  earlier: Record<string, string[]>;
  superseded: ReadonlySet<string>;
  actionable: Actionable;
}

export interface JobsState {
  /** One higher at every snapshot: the view asks for its window again then. */
  generation: number;
  /** The rows the view holds (its window's and the other rows it names) and no others. */
  byId: Record<string, JobRow>;
  bySeq: Record<number, string>;
  window: WindowState;
  /** Newest attempts per status over the whole scope, and per stage id. */
  counts: Counts;
  stageCounts: Record<string, Counts>;
  subjects: Record<string, string>;
  stages: Record<string, string>;
  /** Jobs in the scope, every attempt. */
  total: number;
  /** Seq -> place (1, 2...) in the start order, for the first ready queued jobs. */
  queue: Record<number, number>;
  /** Jobs that ended in the last patch that said so (a new object each time: the view announces
   * each once), null before any. */
  ended: JobsEnded | null;
  /** The runs the last patch said finished (a new array per patch that had some). */
  finished: RunRow[];
}

const NONE: RunRow[] = [];

const NO_WINDOW: WindowState = {
  asked: -1,
  offset: 0,
  listed: 0,
  seqs: [],
  earlier: {},
  superseded: new Set(),
  actionable: { cancel: 0, retry: 0, queued: 0 },
};

function toCounts(raw: Record<string, number> | undefined): Counts {
  const counts = { all: 0 } as Counts;
  for (const status of JOB_STATUSES) {
    counts[status] = raw?.[status] ?? 0;
    counts.all += counts[status];
  }
  return counts;
}

function stageCounts(raw: Record<string, Record<string, number>> | undefined): Record<string, Counts> {
  return Object.fromEntries(Object.entries(raw ?? {}).map(([stage, counts]) => [stage, toCounts(counts)]));
}

function places(queue: number[] | undefined): Record<number, number> {
  const out: Record<number, number> = {};
  (queue ?? []).forEach((seq, i) => {
    out[seq] = i + 1;
  });
  return out;
}

/** The rows with `rows` put in and `changes` applied; only seqs that `take` accepts come in. */
function merged(state: JobsState, rows: JobTable | undefined, changes: JobsPatch["changes"], take: (seq: number) => boolean) {
  const byId = { ...state.byId };
  const bySeq = rows ? { ...state.bySeq } : state.bySeq; // changes never move a seq
  for (const row of rowsOf(rows)) {
    if (!take(row.seq)) continue;
    byId[row.id] = row;
    bySeq[row.seq] = row.id;
  }
  applyChanges(changes, (seq) => byId[bySeq[seq]], (row) => {
    byId[row.id] = row;
  });
  return { byId, bySeq };
}

/** The state holding `window` and exactly the rows it names (`rows` and `changes` applied first). */
function withWindow(state: JobsState, rows: JobTable | undefined, changes: JobsPatch["changes"], window: JobsWindow): JobsState {
  const all = merged(state, rows, changes, () => true);
  const byId: Record<string, JobRow> = {};
  const bySeq: Record<number, string> = {};
  for (const seq of [...window.ids, ...window.held]) {
    const id = all.bySeq[seq];
    if (id === undefined) continue; // named before its row came (the reply brings it)
    byId[id] = all.byId[id];
    bySeq[seq] = id;
  }
  const idOf = (seq: number) => bySeq[seq];
  const earlier: Record<string, string[]> = {};
  for (const [seq, before] of window.earlier) {
    if (idOf(seq) !== undefined) earlier[idOf(seq)] = before.map(idOf).filter((id) => id !== undefined);
  }
  return {
    ...state,
    byId,
    bySeq,
    window: {
      asked: window.asked,
      offset: window.offset,
      listed: window.listed,
      seqs: window.ids,
      earlier,
      superseded: new Set(window.superseded.map(idOf).filter((id) => id !== undefined)),
      actionable: window.actionable,
    },
  };
}

/** The state after this view's reply to `jobs_window` (unchanged if it answers an older request). */
export function applyReply(state: JobsState, reply: JobsWindowReply): JobsState {
  return reply.window.asked < state.window.asked ? state : withWindow(state, reply.jobs, undefined, reply.window);
}

/** The jobs reducer of the view `viewId`: patches carry every view's window, it takes its own. */
export function jobsReducer(viewId: string): PartReducer<JobsState, JobsSnapshot, JobsPatch> {
  return {
    init(snapshot, previous) {
      return {
        // the rows held stay drawn until the window asked again replaces them
        generation: (previous?.generation ?? 0) + 1,
        byId: previous?.byId ?? {},
        bySeq: previous?.bySeq ?? {},
        window: previous?.window ?? NO_WINDOW,
        counts: toCounts(snapshot?.counts),
        stageCounts: stageCounts(snapshot?.stage_counts),
        subjects: snapshot?.subjects ?? {},
        stages: snapshot?.stages ?? {},
        total: snapshot?.total ?? 0,
        queue: places(snapshot?.queue),
        ended: null,
        finished: NONE,
      };
    },
    patch(state, patch) {
      const window = patch.windows?.[viewId];
      let next: JobsState;
      if (window && window.asked >= state.window.asked) next = withWindow(state, patch.jobs, patch.changes, window);
      else if (patch.jobs || patch.changes) next = { ...state, ...merged(state, patch.jobs, patch.changes, (seq) => seq in state.bySeq) };
      else next = { ...state };
      if (patch.total !== undefined) next.total = patch.total;
      if (patch.counts) next.counts = toCounts(patch.counts);
      if (patch.stage_counts) next.stageCounts = { ...state.stageCounts, ...stageCounts(patch.stage_counts) };
      if (patch.subjects) next.subjects = { ...state.subjects, ...patch.subjects };
      if (patch.queue) next.queue = places(patch.queue);
      if (patch.ended) next.ended = patch.ended;
      if (patch.finished?.length) next.finished = patch.finished;
      return next;
    },
  };
}

/** Jobs per status, newest attempts only, of `stage` when one is in focus. */
export function countJobs(state: JobsState, stage: string | null = null): Counts {
  return stage ? (state.stageCounts[stage] ?? toCounts(undefined)) : state.counts;
}
