// The subject feed: one subject's stage statuses and each stage's latest job.

import type { SubjectPatch, SubjectSnapshot } from "../protocol";
import type { PartReducer } from "../sync";
import type { JobRow, StageRow, SubjectRow } from "../types";
import { applyChanges } from "./rows";

export interface SubjectState {
  subject: SubjectRow | null;
  stages: StageRow[];
  latest: Record<string, JobRow>;
}

export const subjectReducer: PartReducer<SubjectState, SubjectSnapshot, SubjectPatch> = {
  init(snapshot) {
    return { subject: snapshot?.subject ?? null, stages: snapshot?.stages ?? [], latest: snapshot?.latest ?? {} };
  },
  patch(state, patch) {
    if (patch.reset) return subjectReducer.init(patch.reset, undefined);
    const latest = { ...state.latest };
    for (const [stage, job] of Object.entries(patch.latest ?? {})) {
      const known = latest[stage];
      if (!known || job.seq >= known.seq) latest[stage] = job;
    }
    // changes name a stage's newest job by its seq; a change of an older attempt is not shown
    applyChanges(
      patch.changes,
      (seq) => Object.values(latest).find((job) => job.seq === seq),
      (row) => {
        latest[row.stage_id] = row;
      },
    );
    return { subject: patch.subject ?? state.subject, stages: state.stages, latest };
  },
};

/** Stages done, and how many there are. */
export function stageProgress(state: SubjectState): { done: number; total: number } {
  const statuses = state.subject?.statuses ?? {};
  return { done: state.stages.filter((s) => statuses[s.id] === "done").length, total: state.stages.length };
}

/** Whether a stage may be (re)run: its dependencies are done and no job of it is active. */
export function canRun(state: SubjectState, stage: StageRow): boolean {
  const statuses = state.subject?.statuses ?? {};
  const own = statuses[stage.id];
  return own !== "queued" && own !== "running" && stage.depends_on.every((d) => statuses[d] === "done");
}
