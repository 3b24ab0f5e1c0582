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
  patch(state, patch: { job?: JobRow }) {
    return patch.job ? { ...state, job: patch.job } : state;
  },
};
