// Shapes of the records the kernel sends (see pbrain_widgets/widgets/records.py).

export type JobStatus = "queued" | "running" | "completed" | "failed" | "cancelled";
export type StageStatus = "not_run" | "queued" | "running" | "done" | "failed" | "waiting" | "stale";
export type LogLevel = "DEBUG" | "INFO" | "PROGRESS" | "WARNING" | "ERROR" | "SUCCESS";

export interface JobRow {
  id: string;
  project_id: string;
  subject_id: string;
  stage_id: string;
  status: JobStatus;
  progress: number;
  current_step: string;
  queued_at: number;
  start_time: number | null;
  end_time: number | null;
  error: string | null;
  log_path: string | null;
  eta_seconds: number | null;
  attempt: number;
  /** Higher starts first among queued jobs (default 0). */
  priority: number;
  retry_of: string | null;
  blocked_by: string | null;
  cpu_percent: number | null;
  memory_rss: number | null;
  peak_memory_rss: number | null;
  seq: number;
}

/** `[seq, time, level, message]`; seq counts a job's lines from 1 without gaps. */
export type LogLine = [number, number, LogLevel, string];

export interface StageRow {
  id: string;
  label: string;
  depends_on: string[];
}

export interface SubjectRow {
  id: string;
  name: string;
  has_t1: boolean;
  has_dce: boolean;
  has_diffusion: boolean;
  statuses: Record<string, StageStatus>;
}

/** A run (the jobs one action queued) that finished (pbrain_widgets/widgets/feeds/jobs.py run_row). */
export interface RunRow {
  run_id: number;
  action: string;
  message: string;
  ok: boolean;
  jobs: number;
  completed: number;
  failed: number;
  cancelled: number;
  root_failed_ids: string[];
}

export const JOB_STATUSES: JobStatus[] = ["running", "queued", "completed", "failed", "cancelled"];
