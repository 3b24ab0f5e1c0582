// The jobs feed: every job of the monitor's scope, newest first, with status counts.

import type { PartReducer } from "../sync";
import { JOB_STATUSES, type JobRow, type JobStatus } from "../types";

export interface JobsState {
  byId: Record<string, JobRow>;
  /** Job ids, newest (highest seq) first. */
  order: string[];
  subjects: Record<string, string>;
  stages: Record<string, string>;
}

interface JobsSnapshot {
  jobs: JobRow[];
  subjects: Record<string, string>;
  stages: Record<string, string>;
}

/** New jobs as full rows; known jobs as only the fields that changed. */
interface JobsPatch {
  jobs?: JobRow[];
  changes?: (Partial<JobRow> & { id: string })[];
  subjects?: Record<string, string>;
}

function newestFirst(byId: Record<string, JobRow>): string[] {
  return Object.keys(byId).sort((a, b) => byId[b].seq - byId[a].seq);
}

export const jobsReducer: PartReducer<JobsState> = {
  init(snapshot: JobsSnapshot) {
    const byId: Record<string, JobRow> = {};
    for (const job of snapshot?.jobs ?? []) byId[job.id] = job;
    return { byId, order: newestFirst(byId), subjects: snapshot?.subjects ?? {}, stages: snapshot?.stages ?? {} };
  },
  patch(state, patch: JobsPatch) {
    const byId = { ...state.byId };
    let added = false;
    for (const job of patch.jobs ?? []) {
      if (!(job.id in byId)) added = true;
      byId[job.id] = job;
    }
    for (const change of patch.changes ?? []) {
      const known = byId[change.id];
      if (known) byId[change.id] = { ...known, ...change };
    }
    return {
      byId,
      order: added ? newestFirst(byId) : state.order,
      subjects: patch.subjects ? { ...state.subjects, ...patch.subjects } : state.subjects,
      stages: state.stages,
    };
  },
};

export type Counts = Record<JobStatus | "all", number>;

export function countJobs(state: JobsState): Counts {
  const counts = { all: state.order.length } as Counts;
  for (const status of JOB_STATUSES) counts[status] = 0;
  for (const id of state.order) counts[state.byId[id].status] += 1;
  return counts;
}

/**
 * Ids of the jobs with `status` whose subject, stage (label or id) or job id contains `query`,
 * of stage `stage` only if one is given (the stage in focus).
 */
export function filterJobs(state: JobsState, status: JobStatus | "all", query = "", stage: string | null = null): string[] {
  const q = query.trim().toLowerCase();
  if (status === "all" && !q && !stage) return state.order;
  return state.order.filter((id) => {
    const job = state.byId[id];
    if (status !== "all" && job.status !== status) return false;
    if (stage && job.stage_id !== stage) return false;
    if (!q) return true;
    const text = `${state.subjects[job.subject_id] ?? ""} ${state.stages[job.stage_id] ?? ""} ${job.stage_id} ${job.id}`;
    return text.toLowerCase().includes(q);
  });
}
