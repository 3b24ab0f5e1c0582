// The job feed: the one job a LogStream follows.

import type { PartReducer } from "../sync";
import type { JobRow } from "../types";

export interface JobState {
  job: JobRow | null;
  subject: string;
  stage: string;
}

export const jobReducer: PartReducer<JobState> = {
  init(snapshot) {
    return { job: snapshot?.job ?? null, subject: snapshot?.subject ?? "", stage: snapshot?.stage ?? "" };
  },
  patch(state, patch: { job?: JobRow; change?: Partial<JobRow> }) {
    if (patch.job) return { ...state, job: patch.job };
    if (patch.change && state.job) return { ...state, job: { ...state.job, ...patch.change } };
    return state;
  },
};
