// The jobs feed: every job of the monitor's scope, its attempts per subject x stage, status counts
// over the newest attempts, and the order of the list (what needs eyes first).
//
// The state is updated in place: a patch costs what it changes, not the number of jobs held
// (100,000 in a large cohort). Each patch returns a new top-level object with `version` one
// higher, whose maps and arrays are the same (mutated) ones: code that memoises on them keys on
// `version`, never on the identity of `byId` or `ascending`.

import type { JobsPatch, JobsSnapshot } from "../protocol";
import type { PartReducer } from "../sync";
import { JOB_STATUSES, type JobRow, type JobStatus, type RunRow } from "../types";
import { applyChanges, rowsOf } from "./rows";

export type Counts = Record<JobStatus | "all", number>;

export interface JobsState {
  /** One higher after every patch (the maps below are updated in place). */
  version: number;
  /** Higher whenever what `listJobs` lists may have changed (a job's status, a new job, the
   * queue order); a patch of progress alone leaves it: a list memoised on it is not rebuilt. */
  listVersion: number;
  byId: Record<string, JobRow>;
  /** Job id by seq (changes name jobs by their seq). */
  bySeq: Record<number, string>;
  /** Job ids, oldest (lowest seq) first: a new job is appended, never a re-sort (`newestFirst`). */
  ascending: string[];
  /** Per subject x stage, its job ids newest first: the first is the newest attempt, the others
   * are superseded (folded under it, counted nowhere, never retried). */
  attempts: Record<string, string[]>;
  /** Newest attempts per status, kept as rows arrive and change. */
  counts: Counts;
  /** The same per stage id. */
  stageCounts: Record<string, Counts>;
  /** Newest attempts per status, ids oldest (lowest seq) first: the list's segments, kept as
   * rows arrive and change so that listing costs what is listed, not a sort of every job. */
  byStatus: Record<JobStatus, string[]>;
  /** Per status, entries of `byStatus` no longer listed there (the job left the status or was
   * superseded): skipped when listing, dropped once they are half of the segment. */
  stale: Record<JobStatus, number>;
  /** The attempts a newer one of their subject x stage superseded. */
  superseded: Set<string>;
  /** Jobs the state held that then completed or failed, in order, as [id, status]; the first
   * entry is the `endedBase`-th since the snapshot (older entries are dropped, see `endedSince`). */
  ended: [string, JobStatus][];
  endedBase: number;
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

function zeroCounts(): Counts {
  const counts = { all: 0 } as Counts;
  for (const status of JOB_STATUSES) counts[status] = 0;
  return counts;
}

function attemptKey(job: JobRow): string {
  return `${job.subject_id}\u0000${job.stage_id}`;
}

/** Where a job of `seq` goes in `ids` (ascending by seq). */
function seqIndex(state: JobsState, ids: string[], seq: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (state.byId[ids[mid]].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether the job `id` is listed under `status`: it has it, and it is its newest attempt. */
function listedAs(state: JobsState, id: string, status: JobStatus): boolean {
  return state.byId[id].status === status && !state.superseded.has(id);
}

/** Stale entries a segment keeps before it is compacted (below, compacting would cost more). */
const STALE_KEPT = 1000;

/** Add `sign` (1 or -1) of a newest attempt with `status` to the counts of all and of its stage,
 * and put it into (or mark it stale in) that status's segment. */
function count(state: JobsState, job: JobRow, status: JobStatus, sign: number): void {
  const stage = (state.stageCounts[job.stage_id] ??= zeroCounts());
  state.counts[status] += sign;
  state.counts.all += sign;
  stage[status] += sign;
  stage.all += sign;
  state.listVersion += 1;
  const ids = state.byStatus[status];
  if (sign < 0) {
    // taking it out would move every later id (the queued segment of a 100,000-job run loses
    // its oldest job at every start): it stays, stale, until the segment is compacted
    state.stale[status] += 1;
    if (state.stale[status] > STALE_KEPT && 2 * state.stale[status] > ids.length) {
      const kept = ids.filter((id) => listedAs(state, id, status));
      ids.length = 0;
      for (const id of kept) ids.push(id);
      state.stale[status] = 0;
    }
    return;
  }
  const last = ids[ids.length - 1];
  if (last === undefined || state.byId[last].seq < job.seq) {
    ids.push(job.id); // the usual case: the newest job
    return;
  }
  const i = seqIndex(state, ids, job.seq);
  if (ids[i] === job.id) state.stale[status] -= 1; // back in a status it had left: listed again
  else ids.splice(i, 0, job.id);
}

/** Entries of `ended` kept; beyond, the older half is dropped (a view reads it at every render). */
const ENDED_KEPT = 10_000;

function noteEnded(state: JobsState, id: string, status: JobStatus): void {
  if (status !== "completed" && status !== "failed") return;
  state.ended.push([id, status]);
  if (state.ended.length > ENDED_KEPT) {
    const dropped = state.ended.length - ENDED_KEPT / 2;
    state.ended.splice(0, dropped);
    state.endedBase += dropped;
  }
}

/** Put a row into the state (new or changed), keeping attempts and counts. New jobs' ids are
 * pushed to `added` (placed into `ascending` once per patch). */
function put(state: JobsState, row: JobRow, added: string[]): void {
  const old = state.byId[row.id];
  state.byId[row.id] = row;
  if (old) {
    if (old.status !== row.status) noteEnded(state, row.id, row.status);
    const group = state.attempts[attemptKey(old)];
    if (group?.[0] === row.id && old.status !== row.status) {
      count(state, row, old.status, -1);
      count(state, row, row.status, 1);
    }
    return;
  }
  state.bySeq[row.seq] = row.id;
  added.push(row.id);
  const group = (state.attempts[attemptKey(row)] ??= []);
  let i = 0; // newest first; attempts of one subject x stage are few
  while (i < group.length && state.byId[group[i]].seq > row.seq) i++;
  group.splice(i, 0, row.id);
  if (i === 0) {
    const before = group[1];
    if (before !== undefined) {
      state.superseded.add(before);
      count(state, state.byId[before], state.byId[before].status, -1);
    }
    count(state, row, row.status, 1);
  } else {
    state.superseded.add(row.id); // an older attempt that a later part of a snapshot brought
  }
}

/** Place new ids into `ascending`: appended when they are newer than every job held (the usual
 * case), else one linear merge per patch (a long snapshot's later parts carry older jobs). */
function place(state: JobsState, added: string[]): void {
  if (!added.length) return;
  const seq = (id: string) => state.byId[id].seq;
  added.sort((a, b) => seq(a) - seq(b));
  const held = state.ascending;
  if (!held.length || seq(held[held.length - 1]) < seq(added[0])) {
    for (const id of added) held.push(id);
    return;
  }
  const merged: string[] = new Array(held.length + added.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < merged.length; k++) {
    merged[k] = j >= added.length || (i < held.length && seq(held[i]) < seq(added[j])) ? held[i++] : added[j++];
  }
  held.length = 0;
  for (const id of merged) held.push(id);
}

function apply(state: JobsState, patch: JobsPatch): void {
  const added: string[] = [];
  for (const job of rowsOf(patch.jobs)) put(state, job, added);
  applyChanges(
    patch.changes,
    (seq) => state.byId[state.bySeq[seq]],
    (row) => put(state, row, added),
  );
  place(state, added);
}

export const jobsReducer: PartReducer<JobsState, JobsSnapshot, JobsPatch> = {
  init(snapshot) {
    const state: JobsState = {
      version: 0,
      listVersion: 0,
      byId: {},
      bySeq: {},
      ascending: [],
      attempts: {},
      counts: zeroCounts(),
      stageCounts: {},
      byStatus: Object.fromEntries(JOB_STATUSES.map((status) => [status, []])) as unknown as Record<JobStatus, string[]>,
      stale: Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>,
      superseded: new Set(),
      ended: [],
      endedBase: 0,
      subjects: snapshot?.subjects ?? {},
      stages: snapshot?.stages ?? {},
      total: snapshot?.total ?? 0,
      queue: places(snapshot?.queue),
      finished: NONE,
    };
    apply(state, { jobs: snapshot?.jobs });
    if (!snapshot) state.total = state.ascending.length;
    return state;
  },
  patch(state, patch) {
    apply(state, patch);
    if (patch.subjects) Object.assign(state.subjects, patch.subjects);
    return {
      ...state,
      version: state.version + 1,
      listVersion: patch.queue ? state.listVersion + 1 : state.listVersion,
      queue: patch.queue ? places(patch.queue) : state.queue,
      finished: patch.finished?.length ? patch.finished : state.finished,
    };
  },
};

/** Job ids, newest (highest seq) first. */
export function newestFirst(state: JobsState): string[] {
  return state.ascending.slice().reverse();
}

/** Whether no newer job exists for the job's subject x stage. */
export function isNewest(state: JobsState, id: string): boolean {
  return !state.superseded.has(id);
}

/** The attempts a newer one superseded, newest first (none for a superseded job). */
export function earlierAttempts(state: JobsState, id: string): JobRow[] {
  const group = state.attempts[attemptKey(state.byId[id])] ?? [];
  return group[0] === id ? group.slice(1).map((other) => state.byId[other]) : [];
}

/** Jobs per status, counting only the newest attempt of each subject x stage (of `stage`
 * only, when one is in focus): kept by the reducer, so this costs nothing. */
export function countJobs(state: JobsState, stage: string | null = null): Counts {
  return stage ? { ...(state.stageCounts[stage] ?? zeroCounts()) } : { ...state.counts };
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

/** The statuses in the order the list shows them. */
const LIST_ORDER = (Object.keys(STATUS_RANK) as JobStatus[]).sort((a, b) => STATUS_RANK[a] - STATUS_RANK[b]);

/**
 * Ids of the jobs to list under the tab `status`: the newest attempts (every attempt with
 * `history`; open jobs always), of the stage in focus if any, running first, then failed, queued, completed and cancelled,
 * newest first within each status but queued jobs, which come in the order they will start.
 * Without a query or `history` it reads the per-status segments the reducer keeps (no sort:
 * 100,000 jobs listed in a few milliseconds); else it scans every job (`scanJobs`).
 */
export function listJobs(state: JobsState, status: JobStatus | "all", options: ListOptions = {}): string[] {
  const { query = "", history = false, pinned = {}, stage = null } = options;
  if (history || query.trim()) return scanJobs(state, status, options);
  const seqOf = (id: string) => state.byId[id].seq;
  const open = Object.keys(pinned).filter((id) => state.byId[id]);
  const out: string[] = [];
  for (const shown of LIST_ORDER) {
    if (status !== "all" && status !== shown) continue;
    const fits = (id: string) => (pinned[id] ?? state.byId[id].status) === shown && (!stage || state.byId[id].stage_id === stage);
    // open jobs listed under the status they had when opened, wherever they are now
    const extra = open.filter((id) => pinned[id] === shown && !listedAs(state, id, shown) && fits(id)).sort((a, b) => seqOf(b) - seqOf(a));
    // queued jobs ready to start come first, in the order they will
    const ready = shown === "queued" ? Object.keys(state.queue).filter((id) => state.byId[id] && (listedAs(state, id, shown) || extra.includes(id)) && fits(id)) : [];
    ready.sort((a, b) => state.queue[a] - state.queue[b]);
    for (const id of ready) out.push(id);
    const skip = (id: string) => ready.length > 0 && id in state.queue;
    const ids = state.byStatus[shown];
    let e = 0;
    for (let i = ids.length - 1; i >= 0; i--) {
      const id = ids[i];
      if (!listedAs(state, id, shown)) continue; // stale
      if (e < extra.length) {
        const seq = seqOf(id);
        while (e < extra.length && seqOf(extra[e]) > seq) if (!skip(extra[e++])) out.push(extra[e - 1]);
      }
      if ((stage && state.byId[id].stage_id !== stage) || (id in pinned && pinned[id] !== shown) || skip(id)) continue;
      out.push(id);
    }
    while (e < extra.length) if (!skip(extra[e++])) out.push(extra[e - 1]);
  }
  return out;
}

/** `listJobs` by a scan over every job held: any query, every attempt with `history`. */
export function scanJobs(state: JobsState, status: JobStatus | "all", { query = "", history = false, pinned = {}, stage = null }: ListOptions = {}): string[] {
  const q = query.trim().toLowerCase();
  const shown = (id: string) => pinned[id] ?? state.byId[id].status;
  const ids = newestFirst(state).filter((id) => {
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

/** The jobs that completed or failed since `cursor` (a number this function returned before;
 * null the first time: nothing is news then), and the cursor to pass next time. */
export function endedSince(state: JobsState, cursor: number | null): { completed: string[]; failed: string[]; cursor: number } {
  const end = state.endedBase + state.ended.length;
  const completed: string[] = [];
  const failed: string[] = [];
  if (cursor !== null) {
    for (const [id, status] of state.ended.slice(Math.max(0, cursor - state.endedBase))) {
      (status === "failed" ? failed : completed).push(id);
    }
  }
  return { completed, failed, cursor: end };
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
