// The timeline: job rows (reducer), lanes (one per execution slot, grouped by worker on a
// cluster), the viewport (zoom and
// pan), the scene drawn on the canvas and hit-testing on it. Pure, so that it is tested alone.

import type { Mark, ResourceRow, TimelinePatch, TimelineRow, TimelineSnapshot } from "../protocol";
import type { PartReducer } from "../sync";
import type { JobStatus } from "../types";

export type { Mark, ResourceRow, TimelineRow } from "../protocol";

export interface TimelineState {
  rows: Record<string, TimelineRow>;
  subjects: Record<string, string>;
  stages: Record<string, string>;
  order: string[];
  marks: Record<string, Mark[]>;
  resources: ResourceRow[];
  /** Rows held, and jobs on the kernel's timeline: fewer held while a long snapshot's older
   * jobs are on their way (they follow in patches). */
  held: number;
  total: number;
}

/** Add marks that are newer than the last one held (a patch may repeat the snapshot's). */
export function mergeMarks(known: Mark[] | undefined, added: Mark[]): Mark[] {
  const last = known?.length ? known[known.length - 1][0] : -Infinity;
  const fresh = added.filter((m) => m[0] > last);
  return fresh.length ? [...(known ?? []), ...fresh] : (known ?? []);
}

/** Set resource rows by their second, keeping seconds in order. */
export function mergeResources(known: ResourceRow[], added: ResourceRow[]): ResourceRow[] {
  if (!added.length) return known;
  const bySecond = new Map(known.map((r) => [r[0], r]));
  for (const r of added) bySecond.set(r[0], r);
  return [...bySecond.values()].sort((a, b) => a[0] - b[0]);
}

export const timelineReducer: PartReducer<TimelineState, TimelineSnapshot, TimelinePatch> = {
  init(snapshot) {
    const rows: Record<string, TimelineRow> = {};
    for (const row of snapshot?.jobs ?? []) rows[row[0]] = row;
    const held = snapshot?.jobs.length ?? 0;
    return {
      held,
      total: Math.max(held, snapshot?.total ?? 0),
      rows,
      subjects: snapshot?.subjects ?? {},
      stages: snapshot?.stages ?? {},
      order: snapshot?.order ?? [],
      marks: snapshot?.marks ?? {},
      resources: snapshot?.resources ?? [],
    };
  },
  patch(state, patch: TimelinePatch) {
    let rows = state.rows;
    let held = state.held;
    if (patch.jobs?.length) {
      rows = { ...rows };
      for (const row of patch.jobs) {
        if (!(row[0] in rows)) held += 1;
        rows[row[0]] = row;
      }
    }
    let marks = state.marks;
    if (patch.marks) {
      marks = { ...marks };
      for (const [id, added] of Object.entries(patch.marks)) marks[id] = mergeMarks(marks[id], added);
    }
    return {
      ...state,
      rows,
      held,
      total: Math.max(state.total, held),
      subjects: patch.subjects ? { ...state.subjects, ...patch.subjects } : state.subjects,
      marks,
      resources: patch.resources ? mergeResources(state.resources, patch.resources) : state.resources,
    };
  },
};

export const STATUS_CODES: JobStatus[] = ["queued", "running", "completed", "failed", "cancelled"];

/** The lanes of one worker (null: the kernel's machine), `first` to `first + lanes - 1`. */
export interface LaneGroup {
  worker: string | null;
  first: number;
  lanes: number;
}

/** Every started job, as typed arrays in start order, each in a lane (an execution slot). */
export interface Scene {
  ids: string[];
  lane: Int32Array;
  stage: Int32Array;
  status: Int8Array;
  queued: Float64Array;
  start: Float64Array;
  /** End time; NaN while running (drawn up to now). */
  end: Float64Array;
  lanes: number;
  /** Per lane, the scene indices in start order (for hit-testing). */
  byLane: number[][];
  /** Lanes by worker, in order (one group without a worker when nothing ran on a cluster). */
  groups: LaneGroup[];
  /** Earliest queue time and latest end among the started jobs (NaN when none). */
  first: number;
  last: number;
  /** Jobs queued and not started: no bar yet. */
  waiting: number;
}

/**
 * Seconds by which a job may start before the previous job of its slot ended: times are rounded
 * to the millisecond, and the engine stamps a job's end just after it started the next one.
 */
const SLOT_SLACK = 0.005;

/**
 * Lay the started jobs out in lanes: by start time, each job takes the lowest lane free at its
 * start (greedy interval partitioning, so the lanes are as many as the most jobs that ran at
 * once: one per execution slot used). Jobs that ran on a cluster's workers get each worker's
 * lanes apart (the kernel's machine first, then workers by address). A running job keeps its
 * lane busy until it ends; a job that ended without an end time (a dead kernel) holds it for
 * no time.
 */
export function buildScene(state: TimelineState): Scene {
  const stageIndex = new Map(state.order.map((id, i) => [id, i]));
  const started: TimelineRow[] = [];
  let waiting = 0;
  for (const row of Object.values(state.rows)) {
    if (row[5] != null) started.push(row);
    else if (row[3] === "queued") waiting += 1;
  }
  started.sort((a, b) => (a[5] as number) - (b[5] as number) || (a[0] < b[0] ? -1 : 1));
  const n = started.length;
  const scene: Scene = {
    ids: new Array(n),
    lane: new Int32Array(n),
    stage: new Int32Array(n),
    status: new Int8Array(n),
    queued: new Float64Array(n),
    start: new Float64Array(n),
    end: new Float64Array(n),
    lanes: 0,
    byLane: [],
    groups: [],
    first: NaN,
    last: NaN,
    waiting,
  };
  // each worker's lanes: greedy partitioning within the worker, lane numbers local to it
  const workers = [...new Set(started.map((r) => r[8] ?? null))].sort((a, b) =>
    a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1,
  );
  const laneEnds = new Map<string | null, number[]>(workers.map((w) => [w, []]));
  const local = new Int32Array(n);
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    const row = started[i];
    const start = row[5] as number;
    const running = row[3] === "running";
    const end = running ? NaN : (row[6] ?? start);
    const ends = laneEnds.get(row[8] ?? null) as number[];
    let lane = ends.findIndex((e) => e <= start + SLOT_SLACK);
    if (lane < 0) {
      lane = ends.length;
      ends.push(0);
    }
    ends[lane] = running ? Infinity : end;
    local[i] = lane;
    scene.ids[i] = row[0];
    scene.stage[i] = stageIndex.get(row[2]) ?? state.order.length;
    scene.status[i] = STATUS_CODES.indexOf(row[3]);
    scene.queued[i] = Math.min(row[4], start);
    scene.start[i] = start;
    scene.end[i] = end;
    first = Math.min(first, scene.queued[i]);
    last = Math.max(last, running ? start : end);
  }
  let offset = 0;
  const firstLane = new Map<string | null, number>();
  for (const worker of workers) {
    const lanes = (laneEnds.get(worker) as number[]).length;
    scene.groups.push({ worker, first: offset, lanes });
    firstLane.set(worker, offset);
    offset += lanes;
  }
  scene.lanes = offset;
  scene.byLane = Array.from({ length: offset }, () => []);
  for (let i = 0; i < n; i++) {
    const lane = (firstLane.get(started[i][8] ?? null) as number) + local[i];
    scene.lane[i] = lane;
    scene.byLane[lane].push(i);
  }
  if (n) {
    scene.first = first;
    scene.last = last;
  }
  return scene;
}

/** The visible time range, in kernel seconds. */
export interface Viewport {
  t0: number;
  t1: number;
}

const MIN_SPAN = 0.05;

/** The whole run (up to `now` while jobs run), with a little room on either side. */
export function fitViewport(scene: Scene, now: number): Viewport {
  if (!scene.ids.length) return { t0: now - 60, t1: now };
  let last = scene.last;
  for (let i = 0; i < scene.ids.length; i++) if (Number.isNaN(scene.end[i])) last = Math.max(last, now);
  const span = Math.max(last - scene.first, MIN_SPAN * 20);
  return { t0: scene.first - span * 0.01, t1: last + span * 0.02 };
}

/** Zoom by `factor` (< 1 zooms in) keeping the time under `anchor` (0..1 of the width) still. */
export function zoomViewport(view: Viewport, factor: number, anchor: number): Viewport {
  const span = view.t1 - view.t0;
  const next = Math.min(Math.max(span * factor, MIN_SPAN), 1e7);
  const at = view.t0 + span * anchor;
  return { t0: at - next * anchor, t1: at + next * (1 - anchor) };
}

/** Move the view by `fraction` of its width (positive: later). */
export function panViewport(view: Viewport, fraction: number): Viewport {
  const shift = (view.t1 - view.t0) * fraction;
  return { t0: view.t0 + shift, t1: view.t1 + shift };
}

/** The job under time `t` in `lane` (a bar or its queue wait), or -1. `slack` widens thin bars. */
export function hitTest(scene: Scene, lane: number, t: number, now: number, slack = 0): number {
  const indices = scene.byLane[lane];
  if (!indices) return -1;
  let lo = 0;
  let hi = indices.length - 1;
  let found = -1;
  while (lo <= hi) {
    // last job in the lane that started at or before t + slack
    const mid = (lo + hi) >> 1;
    if (scene.start[indices[mid]] <= t + slack) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found >= 0) {
    const i = indices[found];
    const end = Number.isNaN(scene.end[i]) ? now : scene.end[i];
    if (t <= end + slack) return i;
  }
  // the queue wait of the next job in the lane
  const next = indices[found + 1];
  if (next !== undefined && t >= scene.queued[next] && t <= scene.start[next]) return next;
  return -1;
}

/** The step a job was at, at time `t`: its latest mark at or before `t`. */
export function stepAt(marks: Mark[] | undefined, t: number): string | null {
  let step: string | null = null;
  for (const [time, text] of marks ?? []) {
    if (time > t) break;
    step = text;
  }
  return step;
}

/** Round tick positions for a time axis over `view` with about `count` ticks. */
export function timeTicks(view: Viewport, count: number): { step: number; ticks: number[] } {
  const span = view.t1 - view.t0;
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400];
  const step = steps.find((s) => span / s <= count) ?? 86400;
  const ticks: number[] = [];
  for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1 && ticks.length < 200; t += step) ticks.push(t);
  return { step, ticks };
}
