// The wire protocol between a widget's kernel side and its views.
// GENERATED from pbrain_widgets/widgets/protocol.py by
//   python -m pbrain_widgets.widgets.protocol_ts > js/src/protocol.ts
// Do not edit: change the Python types and regenerate (tests/widgets/test_protocol.py checks).

/** A `JobStatus` value (`"queued"`, `"running"`...). */
export type JobStatus = "queued" | "running" | "completed" | "failed" | "cancelled";

/** A `StageStatus` value (`"not_run"`, `"done"`...). */
export type StageStatus = "not_run" | "queued" | "running" | "done" | "failed" | "waiting" | "stale";

/** A `LogLevel` value (`"INFO"`, `"ERROR"`...). */
export type LogLevel = "DEBUG" | "INFO" | "PROGRESS" | "WARNING" | "ERROR" | "SUCCESS";

/** One field of a table: the values in row order, or one of the compact forms. */
export type Column = unknown[] | FillColumn | CodedColumn;

/** Changed fields of known jobs: `{field: [[seq, new value], ...]}`. */
export type FieldChanges = Record<string, [number, unknown][]>;

/** `[seq, time, level, message]`; `seq` counts a job's lines from 1 without gaps. */
export type LogLine = [number, number, LogLevel, string];

/**
 * `[id, subject_id, stage_id, status, queued_at, start_time, end_time, attempt, worker]`;
 * `worker` is a Dask worker's address, or null for the kernel's machine.
 */
export type TimelineRow = [string, string, string, JobStatus, number, number | null, number | null, number, string | null];

/** `[time, step]`: a step change inside a running job. */
export type Mark = [number, string];

/**
 * `[second, total cpu percent, total rss bytes]` of the running jobs, and
 * `{worker: [cpu percent, rss bytes]}` when jobs of that second ran on workers ("" is the
 * kernel's machine).
 */
export type ResourceRow = [number, number, number] | [number, number, number, Record<string, [number, number]>];

/** Kernel -> views. */
export type KernelMessage = ReplyOk | ReplyError | Patch | Beat;

/** A job as views see it: no resource history, numbers rounded to what a view shows. */
export interface JobRow {
  id: string;
  project_id: string;
  subject_id: string;
  stage_id: string;
  status: JobStatus;
  /** Percent, one decimal. */
  progress: number;
  current_step: string;
  /** Kernel time (seconds since the epoch), to the millisecond; so are start and end. */
  queued_at: number;
  start_time: number | null;
  end_time: number | null;
  error: string | null;
  log_path: string | null;
  /** Whole seconds, so that a running job's ETA changes once a second at most. */
  eta_seconds: number | null;
  attempt: number;
  retry_of: string | null;
  blocked_by: string | null;
  cpu_percent: number | null;
  memory_rss: number | null;
  peak_memory_rss: number | null;
  /** Unique per engine, increasing: the job's compact id in changes. */
  seq: number;
}

/** Every row of the column holds `fill`. */
export interface FillColumn {
  fill: unknown;
}

/** Row i holds `values[codes[i]]` (a column with few distinct values). */
export interface CodedColumn {
  values: unknown[];
  codes: number[];
}

/** `n` jobs as columns: `columns[field]` for every field of `JobRow`. */
export interface JobTable {
  n: number;
  columns: Record<string, Column>;
}

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
  /** Stage id -> status, for the stages that have one. */
  statuses: Record<string, StageStatus>;
}

export interface ProjectRef {
  id: string;
  name: string;
}

/**
 * The jobs of the widget's scope, the running ones first, then the others newest (highest
 * `seq`) first, and the names to show. A snapshot carries at most `MAX_TABLE_ROWS`
 * jobs: the others follow in the next patches (as new rows, `MAX_TABLE_ROWS` a patch).
 */
export interface JobsSnapshot {
  jobs: JobTable;
  /** Jobs in the scope: more than `jobs` holds while the rest is on its way. */
  total: number;
  /** Subject id -> name. */
  subjects: Record<string, string>;
  /** Stage id -> label. */
  stages: Record<string, string>;
}

export interface JobsPatch {
  /** Jobs the views have not seen (whole rows). */
  jobs?: JobTable;
  /** Known jobs: only the fields that changed. */
  changes?: FieldChanges;
  /** New subjects. */
  subjects?: Record<string, string>;
}

export interface JobSnapshot {
  job: JobRow;
  /** The job's subject's name. */
  subject: string;
  /** The job's stage's label. */
  stage: string;
}

export interface JobPatch {
  /** The whole row, after a snapshot that was newer than the last patch. */
  job?: JobRow;
  changes?: FieldChanges;
}

export interface LogsSnapshot {
  /** The pinned job's last lines (a LogStream's job), by job id. */
  tails: Record<string, LogLine[]>;
}

export interface LogsPatch {
  /** New lines of the watched jobs, by job id. */
  lines: Record<string, LogLine[]>;
}

export interface ProjectSnapshot {
  project: ProjectRef;
  stages: StageRow[];
  subjects: SubjectRow[];
  /** Subject id -> its queued and running jobs. */
  active: Record<string, number>;
  /** Subject id -> {stage id -> whole percent of its running job}. */
  progress: Record<string, Record<string, number>>;
}

export interface ProjectPatch {
  /** New subjects and subjects whose name or modalities changed (whole rows). */
  subjects?: SubjectRow[];
  /** Subject id -> {stage id -> status}: the cells of the grid that changed. */
  cells?: Record<string, Record<string, StageStatus>>;
  active?: Record<string, number>;
  /** A subject's running percents, whole (`{}` when none of its jobs runs). */
  progress?: Record<string, Record<string, number>>;
}

export interface SubjectSnapshot {
  subject: SubjectRow | null;
  stages: StageRow[];
  /** Stage id -> the newest job of that stage. */
  latest: Record<string, JobRow>;
}

export interface SubjectPatch {
  /** The feed follows another subject: the new state, whole. */
  reset?: SubjectSnapshot;
  subject?: SubjectRow;
  /** Stages whose newest job is one the views have not seen (whole rows). */
  latest?: Record<string, JobRow>;
  /** Changed fields of the newest jobs the views have. */
  changes?: FieldChanges;
}

/** The stage in focus (snapshot and patch alike). */
export interface FocusState {
  stage_id: string | null;
  label: string | null;
}

export interface GraphSnapshot {
  project: ProjectRef;
  stages: StageRow[];
  /**
   * Stage id -> {count key -> subjects}; count keys: done, stale, running, queued, waiting,
   * failed, not_run.
   */
  counts: Record<string, Record<string, number>>;
  /** Stage id -> median run time of its completed runs, seconds. */
  median: Record<string, number | null>;
  /** `[from, to]` dependencies blocked by a failure. */
  blocked: [string, string][];
  subjects: number;
}

export interface GraphPatch {
  counts?: Record<string, Record<string, number>>;
  median?: Record<string, number | null>;
  blocked?: [string, string][];
  subjects?: number;
}

export interface TimelineSnapshot {
  /** Oldest first. */
  jobs: TimelineRow[];
  subjects: Record<string, string>;
  stages: Record<string, string>;
  /** Stage ids in pipeline order. */
  order: string[];
  marks: Record<string, Mark[]>;
  resources: ResourceRow[];
}

export interface TimelinePatch {
  jobs?: TimelineRow[];
  subjects?: Record<string, string>;
  marks?: Record<string, Mark[]>;
  resources?: ResourceRow[];
}

/** View -> kernel. `id` is 1 to 64 printable characters, `<view prefix>:<n>`. */
export interface Request {
  kind: "request";
  id: string;
  action: string;
  payload?: Record<string, unknown>;
}

export interface ReplyOk {
  kind: "reply";
  id: string | null;
  ok: true;
  result: unknown;
}

/** `id` is null when the request had no valid id. */
export interface ReplyError {
  kind: "reply";
  id: string | null;
  ok: false;
  error: string;
}

/** What changed since the previous patch, numbered 1, 2, 3... per widget. */
export interface Patch {
  kind: "patch";
  rev: number;
  /** Kernel time. */
  t: number;
  /** Feed name -> that feed's patch. */
  parts: Record<string, unknown>;
}

/** The kernel's health, as a beat or a `ping` reply tells it. */
export interface Health {
  busy: boolean;
  store_error: string | null;
  /** The widget's engine was closed: nothing will change, every action but snapshot and ping fails. */
  closed: boolean;
  t: number;
}

export interface Beat extends Health {
  kind: "beat";
}

/** The full state now, at revision `rev` (the last patch sent). */
export interface Snapshot {
  rev: number;
  t: number;
  store_error: string | null;
  closed: boolean;
  /** Feed name -> that feed's snapshot. */
  parts: Record<string, unknown>;
}

export type NoPayload = Record<string, never>;

export interface JobPayload {
  job_id: string;
}

/**
 * Follow these jobs' new lines under the view's id (a lease, renewed by sending it again;
 * an empty list ends it).
 */
export interface WatchPayload {
  view: string;
  job_ids: string[];
}

/** A page of a job's log: the `limit` lines before line `before` (the last ones if none). */
export interface LogsPayload {
  job_id: string;
  before?: number | null;
  limit: number;
}

/**
 * Queue the stages (default all) of the subjects (default all) that are not done; with
 * `rerun_done`, done ones too.
 */
export interface RunPipelinePayload {
  subject_ids?: string[] | null;
  stage_ids?: string[] | null;
  rerun_done?: boolean | null;
}

export interface StagePayload {
  stage_id: string;
}

export interface MaybeStagePayload {
  stage_id: string | null;
}

export interface MaybeSubjectPayload {
  subject_id: string | null;
}

export interface Cancelled {
  cancelled: number;
}

export interface Tails {
  /** The last lines of each job newly watched, by job id. */
  tails: Record<string, LogLine[]>;
}

export interface LogPage {
  job_id: string;
  before: number | null;
  lines: LogLine[];
}

export interface Queued {
  /** Jobs queued. */
  jobs: number;
}

export interface StageRef {
  stage_id: string | null;
}

export interface SubjectRef {
  subject_id: string | null;
}

/** Every action a view may request: its payload and its result. */
export interface Actions {
  snapshot: { payload: NoPayload; result: Snapshot };
  ping: { payload: NoPayload; result: Health };
  cancel: { payload: JobPayload; result: JobRow };
  retry: { payload: JobPayload; result: JobRow };
  cancel_all: { payload: NoPayload; result: Cancelled };
  watch: { payload: WatchPayload; result: Tails };
  logs: { payload: LogsPayload; result: LogPage };
  run_pipeline: { payload: RunPipelinePayload; result: Queued };
  run_stage: { payload: StagePayload; result: JobRow };
  open_subject: { payload: MaybeSubjectPayload; result: SubjectRef };
  focus: { payload: MaybeStagePayload; result: StageRef };
  clear_focus: { payload: NoPayload; result: StageRef };
}

export type ActionName = keyof Actions;

/** Every feed by name: the type of its snapshot and of its patch. */
export interface Feeds {
  jobs: { snapshot: JobsSnapshot; patch: JobsPatch };
  job: { snapshot: JobSnapshot; patch: JobPatch };
  logs: { snapshot: LogsSnapshot; patch: LogsPatch };
  project: { snapshot: ProjectSnapshot; patch: ProjectPatch };
  subject: { snapshot: SubjectSnapshot; patch: SubjectPatch };
  focus: { snapshot: FocusState; patch: FocusState };
  graph: { snapshot: GraphSnapshot; patch: GraphPatch };
  timeline: { snapshot: TimelineSnapshot; patch: TimelinePatch };
}

export const MAX_WATCHED = 8;
