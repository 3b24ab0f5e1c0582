// The jobs feed: every job of the monitor's scope, its attempts per subject x stage, status counts
// over the newest attempts, and the order of the list (what needs eyes first).

import type { JobsPatch, JobsSnapshot } from "../protocol";
import type { PartReducer } from "../sync";
import { JOB_STATUSES, type JobRow, type JobStatus, type RunRow } from "../types";
import { applyChanges, rowsOf } from "./rows";

export interface JobsState {
  byId: Record<string, JobRow>;
  /** Job id by seq (changes name jobs by their seq). */
  bySeq: Record<number, string>;
  /** Job ids, newest (highest seq) first. */
  order: string[];
  /** Per subject x stage, its job ids newest first: the first is the newest attempt, the others
   * are superseded (folded under it, counted nowhere, never retried). */
  attempts: Record<string, string[]>;
  subjects: Record<string, string>;
  stages: Record<string, string>;
  /** Jobs in the scope when the snapshot was taken; a long list arrives in parts, so that
   * fewer than this may be held for a moment (see JobsSnapshot). */
  total: number;
  /** Job id -> its place (1, 2...) in the order queued jobs will start (only jobs ready to start). */
  queue: Record<string, number>;
  /** The runs the last patch said finished (a new array per patch that had some; the view
   * announces each array once). */
  finished: RunRow[];
}

function places(queue: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  (queue ?? []).forEach((id, i) => {
    out[id] = i + 1;
  });
  return out;
}

const NONE: RunRow[] = [];

function newestFirst(byId: Record<string, JobRow>): string[] {
  return Object.keys(byId).sort((a, b) => byId[b].seq - byId[a].seq);
}

function attemptKey(job: JobRow): string {
  return `${job.subject_id}\u0000${job.stage_id}`;
}

function groupAttempts(byId: Record<string, JobRow>, order: string[]): Record<string, string[]> {
  const attempts: Record<string, string[]> = {};
  for (const id of order) (attempts[attemptKey(byId[id])] ??= []).push(id);
  return attempts;
}

export const jobsReducer: PartReducer<JobsState, JobsSnapshot, JobsPatch> = {
  init(snapshot) {
    const byId: Record<string, JobRow> = {};
    const bySeq: Record<number, string> = {};
    for (const job of rowsOf(snapshot?.jobs)) {
      byId[job.id] = job;
      bySeq[job.seq] = job.id;
    }
    const order = newestFirst(byId);
    return {
      byId,
      bySeq,
      order,
      attempts: groupAttempts(byId, order),
      subjects: snapshot?.subjects ?? {},
      stages: snapshot?.stages ?? {},
      total: snapshot?.total ?? order.length,
      queue: places(snapshot?.queue),
      finished: NONE,
    };
  },
  patch(state, patch) {
    const byId = { ...state.byId };
    let bySeq = state.bySeq;
    let added = false;
    for (const job of rowsOf(patch.jobs)) {
      if (!(job.id in byId)) {
        if (!added) bySeq = { ...bySeq };
        added = true;
        bySeq[job.seq] = job.id;
      }
      byId[job.id] = job;
    }
    applyChanges(
      patch.changes,
      (seq) => byId[bySeq[seq]],
      (row) => {
        byId[row.id] = row;
      },
    );
    const order = added ? newestFirst(byId) : state.order;
    return {
      byId,
      bySeq,
      order,
      attempts: added ? groupAttempts(byId, order) : state.attempts,
      subjects: patch.subjects ? { ...state.subjects, ...patch.subjects } : state.subjects,
      stages: state.stages,
      total: state.total,
      queue: patch.queue ? places(patch.queue) : state.queue,
      finished: patch.finished?.length ? patch.finished : state.finished,
    };
  },
};

/** Whether no newer job exists for the job's subject x stage. */
export function isNewest(state: JobsState, id: string): boolean {
  return state.attempts[attemptKey(state.byId[id])]?.[0] === id;
}

/** The attempts a newer one superseded, newest first (none for a superseded job). */
export function earlierAttempts(state: JobsState, id: string): JobRow[] {
  const group = state.attempts[attemptKey(state.byId[id])] ?? [];
  return group[0] === id ? group.slice(1).map((other) => state.byId[other]) : [];
}

export type Counts = Record<JobStatus | "all", number>;

/** Jobs per status, counting only the newest attempt of each subject x stage (of `stage`
 * only, when one is in focus). */
export function countJobs(state: JobsState, stage: string | null = null): Counts {
  const counts = { all: 0 } as Counts;
  for (const status of JOB_STATUSES) counts[status] = 0;
  for (const group of Object.values(state.attempts)) {
    const job = state.byId[group[0]];
    if (stage && job.stage_id !== stage) continue;
    counts.all += 1;
    counts[job.status] += 1;
  }
  return counts;
}

/** The order of the list: what needs eyes first. */
export const STATUS_RANK: Record<JobStatus, number> = { running: 0, failed: 1, queued: 2, completed: 3, cancelled: 4 };

export interface ListOptions {
  /** Text to find in the subject, the stage (label or id) or the job id. */
  query?: string;
  /** Every attempt, not only the newest of each subject x stage. */
  history?: boolean;
  /** Open jobs and the status each had when it was opened: they keep that place in the list
   * (and stay in their tab) when their status changes, so that an open card never jumps away. */
  pinned?: Record<string, JobStatus>;
  /** Only the jobs of this stage (the stage in focus), if one is given. */
  stage?: string | null;
}

/**
 * Ids of the jobs to list under the tab `status`: the newest attempts (every attempt with
 * `history`; open jobs always), of the stage in focus if any, running first, then failed, queued, completed and cancelled,
 * newest first within each status but queued jobs, which come in the order they will start.
 */
export function listJobs(state: JobsState, status: JobStatus | "all", { query = "", history = false, pinned = {}, stage = null }: ListOptions = {}): string[] {
  const q = query.trim().toLowerCase();
  const shown = (id: string) => pinned[id] ?? state.byId[id].status;
  const ids = state.order.filter((id) => {
    const job = state.byId[id];
    if (!history && !(id in pinned) && !isNewest(state, id)) return false;
    if (status !== "all" && shown(id) !== status) return false;
    if (stage && job.stage_id !== stage) return false;
    if (!q) return true;
    const text = `${state.subjects[job.subject_id] ?? ""} ${state.stages[job.stage_id] ?? ""} ${job.stage_id} ${job.id}`;
    return text.toLowerCase().includes(q);
  });
  // a stable sort of the newest-first order; queued jobs in the order they will start (those
  // waiting for dependencies after the ready ones)
  const place = (id: string) => state.queue[id] ?? Number.POSITIVE_INFINITY;
  return ids.sort((a, b) => {
    const rank = STATUS_RANK[shown(a)] - STATUS_RANK[shown(b)];
    if (rank || shown(a) !== "queued") return rank;
    const pa = place(a);
    const pb = place(b);
    return pa === pb ? 0 : pa < pb ? -1 : 1;
  });
}

export type SortKey = "stage" | "subject" | "status" | "progress" | "elapsed" | "eta";
export interface Sort {
  key: SortKey;
  descending: boolean;
}

/** `ids` sorted by one column (stable: ties keep the list's order); `now` is kernel time. */
export function sortJobs(state: JobsState, ids: string[], sort: Sort, now: number): string[] {
  const value = (id: string): number | string => {
    const job = state.byId[id];
    switch (sort.key) {
      case "stage":
        return (state.stages[job.stage_id] ?? job.stage_id).toLowerCase();
      case "subject":
        return (state.subjects[job.subject_id] ?? job.subject_id).toLowerCase();
      case "status":
        return STATUS_RANK[job.status];
      case "progress":
        return job.progress;
      case "elapsed":
        return job.start_time == null ? -1 : (job.end_time ?? now) - job.start_time;
      case "eta":
        return job.status === "running" && job.eta_seconds != null ? job.eta_seconds : Number.POSITIVE_INFINITY;
    }
  };
  const keyed = ids.map((id) => [value(id), id] as const);
  const sign = sort.descending ? -1 : 1;
  keyed.sort(([a], [b]) => (a < b ? -sign : a > b ? sign : 0));
  return keyed.map(([, id]) => id);
}
