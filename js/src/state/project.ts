// The project feed: the subjects x stages grid and the active jobs per subject.

import type { PartReducer } from "../sync";
import type { StageRow, StageStatus, SubjectRow } from "../types";

export interface ProjectState {
  project: { id: string; name: string } | null;
  stages: StageRow[];
  subjects: SubjectRow[];
  active: Record<string, number>;
}

export const projectReducer: PartReducer<ProjectState> = {
  init(snapshot) {
    return {
      project: snapshot?.project ?? null,
      stages: snapshot?.stages ?? [],
      subjects: snapshot?.subjects ?? [],
      active: snapshot?.active ?? {},
    };
  },
  patch(state, patch: { subjects?: SubjectRow[]; active?: Record<string, number> }) {
    let subjects = state.subjects;
    if (patch.subjects?.length) {
      const changed = new Map(patch.subjects.map((s) => [s.id, s]));
      subjects = state.subjects.map((s) => changed.get(s.id) ?? s);
      const known = new Set(state.subjects.map((s) => s.id));
      for (const s of patch.subjects) if (!known.has(s.id)) subjects.push(s);
    }
    return { ...state, subjects, active: patch.active ? { ...state.active, ...patch.active } : state.active };
  },
};

export function activeTotal(state: ProjectState): number {
  return Object.values(state.active).reduce((a, b) => a + b, 0);
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
  const byId = new Map(stages.map((s) => [s.id, s]));
  const status = (id: string) => statuses[id] ?? "not_run";
  const missing = new Set<string>();
  const visit = (id: string) => {
    if (missing.has(id) || SETTLED.has(status(id))) return;
    missing.add(id);
    for (const dep of byId.get(id)?.depends_on ?? []) visit(dep);
  };
  for (const id of chosen) visit(id);
  return {
    missing: stages.map((s) => s.id).filter((id) => missing.has(id)),
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

/** The totals of `planStages` over the subjects `subjectIds`. */
export function planRun(state: ProjectState, subjectIds: ReadonlySet<string> | null, chosen: string[]): RunPlan {
  const plan: RunPlan = { missing: 0, done: 0, doneSubjects: 0 };
  for (const subject of state.subjects) {
    if (subjectIds && !subjectIds.has(subject.id)) continue;
    const { missing, done } = planStages(state.stages, subject.statuses, chosen);
    plan.missing += missing.length;
    plan.done += done.length;
    if (done.length) plan.doneSubjects += 1;
  }
  return plan;
}
