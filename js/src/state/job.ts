// The job feed: the one job a LogStream follows.

import type { JobPatch, JobSnapshot } from "../protocol";
import type { PartReducer } from "../sync";
import type { JobRow } from "../types";
import { applyChanges } from "./rows";

export interface JobState {
  job: JobRow | null;
  subject: string;
  stage: string;
}

export const jobReducer: PartReducer<JobState, JobSnapshot, JobPatch> = {
  init(snapshot) {
    return { job: snapshot?.job ?? null, subject: snapshot?.subject ?? "", stage: snapshot?.stage ?? "" };
  },
  patch(state, patch) {
    if (patch.job) return { ...state, job: patch.job };
    let job = state.job;
    applyChanges(
      patch.changes,
      (seq) => (job?.seq === seq ? job : undefined),
      (row) => {
        job = row;
      },
    );
    return job === state.job ? state : { ...state, job };
  },
};
