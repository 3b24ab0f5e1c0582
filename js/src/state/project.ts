// The project feed: the subjects x stages grid and the active jobs per subject.

import type { PartReducer } from "../sync";
import type { StageRow, SubjectRow } from "../types";

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
