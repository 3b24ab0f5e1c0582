// The project feed: the subjects x stages grid and the active jobs per subject.

import type { ProjectPatch, ProjectSnapshot } from "../protocol";
import type { PartReducer } from "../sync";
import type { StageRow, StageStatus, SubjectRow } from "../types";

export interface ProjectState {
  project: { id: string; name: string } | null;
  stages: StageRow[];
  subjects: SubjectRow[];
  /** Subject id -> its queued and running jobs (a subject without an entry has none). */
  active: Record<string, number>;
  /** Queued and running jobs of the project. */
  activeTotal: number;
  /** Per subject, the whole percent of each stage's running job. */
  progress: Record<string, Record<string, number>>;
  /** Subjects in the project: more than `subjects` holds while a long snapshot's rest arrives. */
  total: number;
  /** Subject id -> its index in `subjects` (a patch of changed cells costs the cells). */
  positions: Map<string, number>;
}

function positionsOf(subjects: SubjectRow[]): Map<string, number> {
  return new Map(subjects.map((s, i) => [s.id, i]));
}

export const projectReducer: PartReducer<ProjectState, ProjectSnapshot, ProjectPatch> = {
  init(snapshot) {
    return {
      project: snapshot?.project ?? null,
      stages: snapshot?.stages ?? [],
      subjects: snapshot?.subjects ?? [],
      active: snapshot?.active ?? {},
      activeTotal: snapshot?.active_total ?? 0,
      progress: snapshot?.progress ?? {},
      total: Math.max(snapshot?.total ?? 0, snapshot?.subjects.length ?? 0),
      positions: positionsOf(snapshot?.subjects ?? []),
    };
  },
  patch(state, patch) {
    let subjects = state.subjects;
    let positions = state.positions;
    const cells = patch.cells;
    if (cells || patch.subjects?.length) subjects = subjects.slice();
    for (const [id, changed] of Object.entries(cells ?? {})) {
      const i = positions.get(id);
      if (i !== undefined) subjects[i] = { ...subjects[i], statuses: { ...subjects[i].statuses, ...changed } };
    }
    for (const row of patch.subjects ?? []) {
      const i = positions.get(row.id);
      if (i !== undefined) subjects[i] = row;
      else {
        if (positions === state.positions) positions = new Map(positions);
        positions.set(row.id, subjects.length);
        subjects.push(row);
      }
    }
    return {
      ...state,
      subjects,
      positions,
      total: Math.max(state.total, subjects.length),
      active: patch.active ? { ...state.active, ...patch.active } : state.active,
      activeTotal: patch.active_total ?? state.activeTotal,
      progress: patch.progress ? { ...state.progress, ...patch.progress } : state.progress,
    };
  },
};

export interface StageTotals {
  done: number;
  running: number;
  failed: number;
}

/** Per stage, how many subjects have it done, running and failed (the engine's stage statuses). */
export function stageTotals(state: ProjectState, stageIds: string[]): Record<string, StageTotals> {
  const totals: Record<string, StageTotals> = {};
  for (const id of stageIds) totals[id] = { done: 0, running: 0, failed: 0 };
  for (const subject of state.subjects) {
    for (const id of stageIds) {
      const status = subject.statuses[id];
      if (status === "done" || status === "running" || status === "failed") totals[id][status] += 1;
    }
  }
  return totals;
}

/** Which subjects the grid lists: all, those with a failed stage, those with a stage not done. */
export type SubjectFilter = "all" | "failed" | "incomplete";

export function subjectMatches(subject: SubjectRow, filter: SubjectFilter, stageIds: string[]): boolean {
  if (filter === "failed") return stageIds.some((id) => subject.statuses[id] === "failed");
  if (filter === "incomplete") return stageIds.some((id) => subject.statuses[id] !== "done");
  return true;
}

/** How many subjects each filter lists. */
export function filterCounts(state: ProjectState, stageIds: string[]): Record<SubjectFilter, number> {
  const counts: Record<SubjectFilter, number> = { all: state.subjects.length, failed: 0, incomplete: 0 };
  for (const subject of state.subjects) {
    if (subjectMatches(subject, "failed", stageIds)) counts.failed += 1;
    if (subjectMatches(subject, "incomplete", stageIds)) counts.incomplete += 1;
  }
  return counts;
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

/** A subject's plan, kept by its statuses object (a patch replaces the objects of the subjects it
 * changed only), for the stages and the choice it was made for. */
const SUBJECT_PLANS = new WeakMap<Record<string, StageStatus>, { stages: StageRow[]; chosen: string; missing: number; done: number }>();

/** The totals of `planStages` over the subjects `subjectIds`. */
export function planRun(state: ProjectState, subjectIds: ReadonlySet<string> | null, chosen: string[]): RunPlan {
  const plan: RunPlan = { missing: 0, done: 0, doneSubjects: 0 };
  const key = chosen.join(",");
  for (const subject of state.subjects) {
    if (subjectIds && !subjectIds.has(subject.id)) continue;
    let one = SUBJECT_PLANS.get(subject.statuses);
    if (!one || one.stages !== state.stages || one.chosen !== key) {
      const { missing, done } = planStages(state.stages, subject.statuses, chosen);
      one = { stages: state.stages, chosen: key, missing: missing.length, done: done.length };
      SUBJECT_PLANS.set(subject.statuses, one);
    }
    plan.missing += one.missing;
    plan.done += one.done;
    if (one.done) plan.doneSubjects += 1;
  }
  return plan;
}
