// The project feed: the subjects x stages grid and the active jobs per subject.

import type { ProjectPatch, ProjectSnapshot } from "../protocol";
import type { PartReducer } from "../sync";
import type { StageRow, StageStatus, SubjectRow } from "../types";

/** A subject as the grid shows it: the kernel's row, with its queued and running jobs and the
 * whole percent of each stage's running job. A patch replaces the objects of the subjects it
 * changed and no others (what `OverviewTally` relies on). */
export interface GridSubject extends SubjectRow {
  active: number;
  progress: Record<string, number>;
}

export interface ProjectState {
  project: { id: string; name: string } | null;
  stages: StageRow[];
  subjects: GridSubject[];
  /** Queued and running jobs of the project. */
  activeTotal: number;
  /** Subjects in the project: more than `subjects` holds while a long snapshot's rest arrives. */
  total: number;
  /** Subject id -> its index in `subjects` (a patch of changed cells costs the cells). */
  positions: Map<string, number>;
}

const NO_PROGRESS: Record<string, number> = Object.freeze({}) as Record<string, number>;

function positionsOf(subjects: SubjectRow[]): Map<string, number> {
  return new Map(subjects.map((s, i) => [s.id, i]));
}

export const projectReducer: PartReducer<ProjectState, ProjectSnapshot, ProjectPatch> = {
  init(snapshot) {
    const active = snapshot?.active ?? {};
    const progress = snapshot?.progress ?? {};
    const subjects = (snapshot?.subjects ?? []).map((row) => ({ ...row, active: active[row.id] ?? 0, progress: progress[row.id] ?? NO_PROGRESS }));
    return {
      project: snapshot?.project ?? null,
      stages: snapshot?.stages ?? [],
      subjects,
      activeTotal: snapshot?.active_total ?? 0,
      total: Math.max(snapshot?.total ?? 0, subjects.length),
      positions: positionsOf(subjects),
    };
  },
  patch(state, patch) {
    const { cells, active, progress } = patch;
    if (!cells && !patch.subjects?.length && !active && !progress) {
      return patch.active_total === undefined ? state : { ...state, activeTotal: patch.active_total };
    }
    const subjects = state.subjects.slice();
    let positions = state.positions;
    // whole rows first (new subjects, changed details), then what changed in any row
    for (const row of patch.subjects ?? []) {
      const i = positions.get(row.id);
      if (i !== undefined) subjects[i] = { ...row, active: subjects[i].active, progress: subjects[i].progress };
      else {
        if (positions === state.positions) positions = new Map(positions);
        positions.set(row.id, subjects.length);
        subjects.push({ ...row, active: 0, progress: NO_PROGRESS });
      }
    }
    const change = (id: string, fn: (subject: GridSubject) => GridSubject) => {
      const i = positions.get(id);
      if (i !== undefined) subjects[i] = fn(subjects[i]);
    };
    for (const [id, changed] of Object.entries(cells ?? {})) change(id, (s) => ({ ...s, statuses: { ...s.statuses, ...changed } }));
    for (const [id, n] of Object.entries(active ?? {})) change(id, (s) => ({ ...s, active: n }));
    for (const [id, percents] of Object.entries(progress ?? {})) change(id, (s) => ({ ...s, progress: percents }));
    return {
      ...state,
      subjects,
      positions,
      total: Math.max(state.total, subjects.length),
      activeTotal: patch.active_total ?? state.activeTotal,
    };
  },
};

export interface StageTotals {
  done: number;
  running: number;
  failed: number;
}

/** Which subjects the grid lists: all, those with a failed stage, those with a stage not done. */
export type SubjectFilter = "all" | "failed" | "incomplete";

export function subjectMatches(subject: SubjectRow, filter: SubjectFilter, stageIds: string[]): boolean {
  if (filter === "failed") return stageIds.some((id) => subject.statuses[id] === "failed");
  if (filter === "incomplete") return stageIds.some((id) => subject.statuses[id] !== "done");
  return true;
}

/**
 * New selection after a click on row `index`: a plain click toggles that row; a shift-click
 * sets every row from the previous click (`anchor`) to this one to the clicked row's new state.
 */
export function selectRows(
  ids: string[],
  selected: ReadonlySet<string>,
  index: number,
  anchor: number | null,
  shift: boolean,
): Set<string> {
  const next = new Set(selected);
  const id = ids[index];
  const on = !selected.has(id);
  const [from, to] = shift && anchor != null ? [Math.min(anchor, index), Math.max(anchor, index)] : [index, index];
  for (let i = from; i <= to; i++) {
    if (on) next.add(ids[i]);
    else next.delete(ids[i]);
  }
  return next;
}

/** Stages that hold a result or are on their way to one: a run leaves them alone. */
const SETTLED: ReadonlySet<StageStatus> = new Set<StageStatus>(["done", "queued", "running"]);

/**
 * What a run of the `chosen` stages would queue for one subject, as the engine plans it
 * (Engine.run_pipeline): the chosen stages that are not done, queued or running ("missing":
 * not run, failed, cancelled, waiting, stale) with their dependencies that are not either; and
 * the chosen stages that are done, which only an explicit rerun redoes.
 */
export function planStages(stages: StageRow[], statuses: Record<string, StageStatus>, chosen: string[]): { missing: string[]; done: string[] } {
  const byId = stageIndex(stages);
  const status = (id: string) => statuses[id] ?? "not_run";
  const missing = new Set<string>();
  const visit = (id: string) => {
    if (missing.has(id) || SETTLED.has(status(id))) return;
    missing.add(id);
    for (const dep of byId.get(id)?.depends_on ?? []) visit(dep);
  };
  for (const id of chosen) visit(id);
  return {
    missing: missing.size ? stages.map((s) => s.id).filter((id) => missing.has(id)) : [],
    done: chosen.filter((id) => status(id) === "done"),
  };
}

export interface RunPlan {
  /** Stages a safe run queues, over every subject of the run. */
  missing: number;
  /** Done stages an explicit rerun would redo, and the subjects they belong to. */
  done: number;
  doneSubjects: number;
}

const STAGE_INDEX = new WeakMap<StageRow[], Map<string, StageRow>>();

/** Stages by id, made once per stage list (a plan of 10,000 subjects asks 10,000 times). */
function stageIndex(stages: StageRow[]): Map<string, StageRow> {
  let index = STAGE_INDEX.get(stages);
  if (!index) STAGE_INDEX.set(stages, (index = new Map(stages.map((s) => [s.id, s]))));
  return index;
}

/** What the grid's header shows over every subject: per column stage its totals, how many
 * subjects each filter lists, what "Run all" of the chosen stages would queue and redo, and the
 * longest subject name (the name column's width). */
export interface Overview {
  totals: Record<string, StageTotals>;
  counts: Record<SubjectFilter, number>;
  allPlan: RunPlan;
  longest: number;
}

// a subject's share of the sums, after its 3 numbers per column: failed, incomplete, then the plan
const FAILED = 0;
const INCOMPLETE = 1;
const MISSING = 2;
const DONE = 3;
const DONE_SUBJECTS = 4;
const STATUS_SLOT: Partial<Record<StageStatus, number>> = { done: 0, running: 1, failed: 2 };

/**
 * The overview of a grid that changes a thousand cells a second, at the cost of what changed: a
 * patch replaces the objects of the subjects it changed and no others, so `read` compares each
 * subject with the one it last saw and works out only the new ones' share of the sums. One tally
 * per choice of stages, columns and chosen stages (make a new one when they change).
 */
export class OverviewTally {
  private rows: readonly GridSubject[] = [];
  private shares = new Float64Array(0);
  private readonly sums: Float64Array;
  private readonly width: number;
  private longest = 7;
  private last: Overview | null = null;

  constructor(
    private readonly stages: StageRow[],
    private readonly columns: string[],
    private readonly chosen: string[],
  ) {
    this.width = 3 * columns.length + 5;
    this.sums = new Float64Array(this.width);
  }

  read(subjects: readonly GridSubject[]): Overview {
    if (subjects === this.rows && this.last) return this.last;
    const { width, sums } = this;
    if (this.shares.length < subjects.length * width) {
      const grown = new Float64Array(Math.max(subjects.length, 2 * this.rows.length) * width);
      grown.set(this.shares);
      this.shares = grown;
    }
    const seen = this.rows.length;
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[i];
      if (i < seen && subject === this.rows[i]) continue;
      if (i < seen) this.add(i, -1);
      this.share(subject, i);
      this.add(i, 1);
      this.longest = Math.max(this.longest, subject.name.length);
    }
    for (let i = subjects.length; i < seen; i++) this.add(i, -1);
    this.rows = subjects;
    const base = 3 * this.columns.length;
    const totals: Record<string, StageTotals> = {};
    this.columns.forEach((id, c) => (totals[id] = { done: sums[3 * c], running: sums[3 * c + 1], failed: sums[3 * c + 2] }));
    this.last = {
      totals,
      counts: { all: subjects.length, failed: sums[base + FAILED], incomplete: sums[base + INCOMPLETE] },
      allPlan: { missing: sums[base + MISSING], done: sums[base + DONE], doneSubjects: sums[base + DONE_SUBJECTS] },
      longest: this.longest,
    };
    return this.last;
  }

  /** Write subject `i`'s share into its slots. */
  private share(subject: GridSubject, i: number): void {
    const out = this.shares.subarray(i * this.width, (i + 1) * this.width);
    out.fill(0);
    this.columns.forEach((id, c) => {
      const slot = STATUS_SLOT[subject.statuses[id]];
      if (slot !== undefined) out[3 * c + slot] = 1;
    });
    const base = 3 * this.columns.length;
    out[base + FAILED] = subjectMatches(subject, "failed", this.columns) ? 1 : 0;
    out[base + INCOMPLETE] = subjectMatches(subject, "incomplete", this.columns) ? 1 : 0;
    const { missing, done } = planStages(this.stages, subject.statuses, this.chosen);
    out[base + MISSING] = missing.length;
    out[base + DONE] = done.length;
    out[base + DONE_SUBJECTS] = done.length ? 1 : 0;
  }

  private add(i: number, sign: number): void {
    const { width, sums, shares } = this;
    for (let k = 0; k < width; k++) sums[k] += sign * shares[i * width + k];
  }
}
