// The dashboard's cell selection (whole rows, whole columns, single cells, ranges) and what each
// batch action would do to it.

import type { StageRow, StageStatus, SubjectRow } from "../types";

export interface CellSelection {
  /** Selected cells, as `cellKey(subject, stage)`. */
  cells: ReadonlySet<string>;
  /** The cell last toggled on its own: a shift-click selects from it to the clicked cell. */
  anchor: { subject: string; stage: string } | null;
}

export const EMPTY_SELECTION: CellSelection = { cells: new Set(), anchor: null };

export type SelectionAction =
  /** Ctrl/Cmd-click or Space on a cell: toggle it, and make it the anchor of a range. */
  | { type: "toggle"; subject: string; stage: string }
  /** Shift-click: select from the anchor to this cell along its row or column (the rectangle
   * between them when both differ); `subjects` and `stages` are the grid's order. */
  | { type: "range"; subject: string; stage: string; subjects: string[]; stages: string[] }
  /** Rows (one checkbox, a shift range of them, the header's box): every cell of `stages` on or off. */
  | { type: "rows"; subjects: string[]; stages: string[]; on: boolean }
  /** A stage header's box: the column's cells of `subjects` all on, or off when all were. */
  | { type: "column"; stage: string; subjects: string[] }
  | { type: "clear" }
  /** Forget the cells of subjects or stages that are gone. */
  | { type: "keep"; subjects: string[]; stages: string[] };

const SEP = "\u0000";

export function cellKey(subject: string, stage: string): string {
  return `${subject}${SEP}${stage}`;
}

export function splitKey(key: string): [string, string] {
  const at = key.indexOf(SEP);
  return [key.slice(0, at), key.slice(at + 1)];
}

export function selectionReducer(state: CellSelection, action: SelectionAction): CellSelection {
  switch (action.type) {
    case "toggle": {
      const cells = new Set(state.cells);
      const key = cellKey(action.subject, action.stage);
      if (cells.has(key)) cells.delete(key);
      else cells.add(key);
      return { cells, anchor: { subject: action.subject, stage: action.stage } };
    }
    case "range": {
      const anchor = state.anchor;
      const rowA = anchor ? action.subjects.indexOf(anchor.subject) : -1;
      const colA = anchor ? action.stages.indexOf(anchor.stage) : -1;
      if (rowA < 0 || colA < 0) return selectionReducer(state, { type: "toggle", subject: action.subject, stage: action.stage });
      const rowB = action.subjects.indexOf(action.subject);
      const colB = action.stages.indexOf(action.stage);
      const cells = new Set(state.cells);
      for (let r = Math.min(rowA, rowB); r <= Math.max(rowA, rowB); r++) {
        for (let c = Math.min(colA, colB); c <= Math.max(colA, colB); c++) cells.add(cellKey(action.subjects[r], action.stages[c]));
      }
      return { cells, anchor: state.anchor };
    }
    case "rows": {
      const cells = new Set(state.cells);
      for (const subject of action.subjects) {
        for (const stage of action.stages) {
          if (action.on) cells.add(cellKey(subject, stage));
          else cells.delete(cellKey(subject, stage));
        }
      }
      return { cells, anchor: state.anchor };
    }
    case "column": {
      const keys = action.subjects.map((s) => cellKey(s, action.stage));
      const on = !keys.every((k) => state.cells.has(k));
      const cells = new Set(state.cells);
      for (const k of keys) {
        if (on) cells.add(k);
        else cells.delete(k);
      }
      return { cells, anchor: state.anchor };
    }
    case "clear":
      return state.cells.size || state.anchor ? EMPTY_SELECTION : state;
    case "keep": {
      const subjects = new Set(action.subjects);
      const stages = new Set(action.stages);
      const kept = [...state.cells].filter((k) => {
        const [subject, stage] = splitKey(k);
        return subjects.has(subject) && stages.has(stage);
      });
      return kept.length === state.cells.size ? state : { cells: new Set(kept), anchor: state.anchor };
    }
  }
}

/** Whether every, some or none of the cells `keys()` names are selected (a checkbox's checked /
 * indeterminate); with nothing selected, the keys are not made (a grid of 100,000 cells). */
export function coverage(cells: ReadonlySet<string>, keysOf: () => string[]): "all" | "some" | "none" {
  if (!cells.size) return "none";
  const keys = keysOf();
  let n = 0;
  for (const k of keys) if (cells.has(k)) n += 1;
  return n === 0 ? "none" : n === keys.length ? "all" : "some";
}

const ACTIVE: ReadonlySet<StageStatus> = new Set<StageStatus>(["queued", "running"]);

/** What each batch action would do to the selected cells, as the engine plans it
 * (`Engine.run_cells`, `Engine.cancel_cells`). */
export interface CellPlan {
  /** Selected cells of subjects and stages the grid knows. */
  total: number;
  /** Not done and not queued or running (not run, failed, waiting, stale): Run queues them. */
  missing: number;
  /** Done: only Rerun redoes them. */
  done: number;
  /** Queued or running: Cancel stops their jobs; Run and Rerun leave them. */
  active: number;
  /** Done cells outside the selection, downstream of a done cell Rerun redoes: stale once it completes. */
  staleDownstream: number;
  /** Subjects holding selected cells (a template saves them). */
  subjects: string[];
}

export function planCells(subjects: SubjectRow[], stages: StageRow[], cells: ReadonlySet<string>): CellPlan {
  const plan: CellPlan = { total: 0, missing: 0, done: 0, active: 0, staleDownstream: 0, subjects: [] };
  if (!cells.size) return plan;
  const below = new Map<string, string[]>(stages.map((s) => [s.id, []]));
  for (const s of stages) for (const dep of s.depends_on) below.get(dep)?.push(s.id);
  for (const subject of subjects) {
    const redone: string[] = [];
    const mine = new Set<string>();
    for (const stage of stages) {
      if (!cells.has(cellKey(subject.id, stage.id))) continue;
      mine.add(stage.id);
      const status = subject.statuses[stage.id] ?? "not_run";
      if (ACTIVE.has(status)) plan.active += 1;
      else if (status === "done") {
        plan.done += 1;
        redone.push(stage.id);
      } else plan.missing += 1;
    }
    if (!mine.size) continue;
    plan.total += mine.size;
    plan.subjects.push(subject.id);
    const stale = new Set<string>();
    const todo = redone.flatMap((id) => below.get(id) ?? []);
    while (todo.length) {
      const id = todo.pop() as string;
      if (stale.has(id)) continue;
      stale.add(id);
      todo.push(...(below.get(id) ?? []));
    }
    for (const id of stale) if (!mine.has(id) && subject.statuses[id] === "done") plan.staleDownstream += 1;
  }
  return plan;
}

/** The selected cells as the `cells` request sends them: `[subject, stage]` pairs. */
export function cellPairs(cells: ReadonlySet<string>): [string, string][] {
  return [...cells].map(splitKey);
}
