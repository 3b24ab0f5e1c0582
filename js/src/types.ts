// The records the views draw: the protocol's types (generated from the kernel's; see
// protocol.ts), re-exported under the names the views import.

import type { JobStatus } from "./protocol";

export type { JobRow, JobStatus, LogLevel, LogLine, RunRow, StageRow, StageStatus, SubjectRow } from "./protocol";

/** The job statuses in the order the monitor lists its tabs and stats. */
export const JOB_STATUSES: JobStatus[] = ["running", "queued", "completed", "failed", "cancelled"];
