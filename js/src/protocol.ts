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

/** Kernel -> views, on the widget's own comm (patches travel on the engine channel: `Patches`). */
export type KernelMessage = ReplyOk | ReplyError | Beat;

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
  /** Higher starts first among queued jobs (0 by default). */
  priority: number;
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
 * What a JobMonitor's views share: how many jobs there are per status, the names to show
 * and the start order. No rows: each view asks for the rows it shows (`jobs_window`).
 */
export interface JobsSnapshot {
  /** Jobs in the scope, every attempt. */
  total: number;
  counts: Record<string, number>;
  /** The same per stage id (the tabs follow a stage in focus). */
  stage_counts: Record<string, Record<string, number>>;
  /** Subject id -> name. */
  subjects: Record<string, string>;
  /** Stage id -> label. */
  stages: Record<string, string>;
  /**
   * The first `QUEUE_SHOWN` queued jobs that are ready to start (their `seq`), in
   * the order they will start.
   */
  queue: number[];
}

/** A run (the jobs one action queued) that finished. */
export interface RunRow {
  run_id: number;
  action: string;
  message: string;
  ok: boolean;
  jobs: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** The first root failures (at most 20). */
  root_failed_ids: string[];
}

/**
 * A job that failed itself (not one skipped because a job it depends on failed), as a view
 * announces it.
 */
export interface FailedJob {
  id: string;
  subject_id: string;
  stage_id: string;
}

/** Jobs that completed or failed since the last patch (a tone, a notification). */
export interface JobsEnded {
  completed: number;
  /** The first `MAX_FAILED_NEWS` of those that failed themselves. */
  failed: FailedJob[];
  /** Such failures beyond those. */
  more_failed: number;
}

export interface Actionable {
  /** Queued or running. */
  cancel: number;
  /** Failed or cancelled, and the newest attempt. */
  retry: number;
  queued: number;
}

/**
 * The rows one view shows of its listing (see `JobsWindowPayload`), by `seq`.
 * A view holds the rows of `ids` and `held` and no others.
 */
export interface JobsWindow {
  /** The `asked` of the request this answers (a view ignores answers to older ones). */
  asked: number;
  /** The place of `ids[0]` in the listing. */
  offset: number;
  /** Rows in the whole listing. */
  listed: number;
  ids: number[];
  /** The other rows the view holds: its open and selected jobs, earlier attempts. */
  held: number[];
  /** `[seq, earlier attempts' seqs, newest first]` for the held jobs that have some. */
  earlier: [number, number[]][];
  /** Held jobs that a newer attempt of their subject x stage superseded. */
  superseded: number[];
  /** What a batch action on the whole listing would act on. */
  actionable: Actionable;
}

export interface JobsPatch {
  /** Jobs that a view holds now and did not before (whole rows). */
  jobs?: JobTable;
  /** Held jobs: only the fields that changed. */
  changes?: FieldChanges;
  /** View id -> its window, when its rows or their order changed. */
  windows?: Record<string, JobsWindow>;
  total?: number;
  counts?: Record<string, number>;
  /** The stages whose counts changed. */
  stage_counts?: Record<string, Record<string, number>>;
  /** New subjects. */
  subjects?: Record<string, string>;
  /** The start order's first jobs again, when it changed. */
  queue?: number[];
  ended?: JobsEnded;
  /**
   * The runs of this scope that finished since the last patch (each once, never in a
   * snapshot: a view that was not there does not announce them again).
   */
  finished?: RunRow[];
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
  /** The first `MAX_SUBJECT_ROWS` subjects; the others follow in the next patches. */
  subjects: SubjectRow[];
  /** Subjects in the project: more than `subjects` holds while the rest is on its way. */
  total: number;
  /**
   * Subject id -> its queued and running jobs, for the subjects of `subjects` that have
   * some (a patch that sends a subject's row whole sends its count).
   */
  active: Record<string, number>;
  /** Queued and running jobs of the project. */
  active_total: number;
  /** Subject id -> {stage id -> whole percent of its running job}. */
  progress: Record<string, Record<string, number>>;
}

export interface ProjectPatch {
  /** New subjects and subjects whose name or modalities changed (whole rows). */
  subjects?: SubjectRow[];
  /** Subject id -> {stage id -> status}: the cells of the grid that changed. */
  cells?: Record<string, Record<string, StageStatus>>;
  /** Subject id -> its queued and running jobs (0 included) that changed, or whose row went whole. */
  active?: Record<string, number>;
  active_total?: number;
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
  /**
   * The newest jobs (at most `MAX_TABLE_ROWS`), oldest first; the older ones follow
   * in the next patches.
   */
  jobs: TimelineRow[];
  /** Jobs on the timeline: more than `jobs` holds while the rest is on its way. */
  total: number;
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

/** Completed run times of a stage: how many, and `[min, p25, median, p75, p90, max]`. */
export interface StageCount {
  n: number;
  q: number[];
}

/**
 * Failed jobs per time bin (by end time): root failures apart from the jobs skipped
 * because of one; all null / empty without failures.
 */
export interface FailureBins {
  start: number | null;
  width: number | null;
  roots: number[];
  skipped: number[];
}

export interface FailureGroupRow {
  stage_id: string;
  signature: string;
  example_error: string;
  count: number;
  roots: number;
  skipped: number;
  subjects: number;
}

export interface StageStatsRow {
  stage_id: string;
  label: string;
  runs: number;
  completed: number;
  failed: number;
  success_rate: number | null;
  median_run_time: number | null;
  p90_run_time: number | null;
  median_queue_wait: number | null;
  p90_queue_wait: number | null;
}

export interface Analytics {
  /** Jobs that ran and ended completed or failed. */
  runs: number;
  stats: StageStatsRow[];
  /** Stage id -> its completed run times. */
  durations: Record<string, StageCount>;
  failures: FailureBins;
  /** The largest failure groups. */
  groups: FailureGroupRow[];
}

export interface HistorySnapshot {
  stages: Record<string, string>;
  analytics: Analytics;
}

/** New analytics when jobs ended (recomputed at most every two seconds). */
export interface HistoryPatch {
  analytics: Analytics;
}

export interface QcRatingRow {
  rating: "pass" | "fail";
  note: string;
  time: number;
}

export interface QcSnapshot {
  /** Subject id -> {stage id -> rating}. */
  ratings: Record<string, Record<string, QcRatingRow>>;
}

export interface QcPatch {
  /** Subject id -> {stage id -> rating, or null when it was removed}. */
  ratings: Record<string, Record<string, QcRatingRow | null>>;
}

/**
 * One subject of a QC review: its latest completed job of the stage and the reviewed
 * output's index (null when there is none).
 */
export interface ReviewTile {
  subject_id: string;
  name: string;
  job_id: string | null;
  index: number | null;
}

export interface ReviewStage {
  id: string;
  label: string;
}

export interface ReviewSnapshot {
  /** The project's name. */
  project: string;
  stage: ReviewStage;
  /** The reviewed output's label (null: each job's first picture). */
  label: string | null;
  /** The picture labels seen so far (the choices of another output to review). */
  labels: string[];
  tiles: ReviewTile[];
}

export interface ReviewPatch {
  tiles: ReviewTile[];
  labels: string[];
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

/** What changed in one widget since its previous patch, numbered 1, 2, 3... per widget. */
export interface Patch {
  rev: number;
  /** Feed name -> that feed's patch. */
  parts: Record<string, unknown>;
}

/** Engine channel -> views: one flush of every widget of the engine that changed. */
export interface Patches {
  kind: "patches";
  /** Kernel time. */
  t: number;
  /** Widget's channel key (its `_channel_key` trait) -> its patch. */
  patches: Record<string, Patch>;
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

/**
 * What one JobMonitor view lists and which of its rows it shows.
 *
 * The listing: the jobs under `tab`, the newest attempt of each subject x stage (every
 * attempt with `history`), of the stage `stage_id` if given, whose subject, stage or id
 * holds `query`; running first, then failed, queued (those ready to start in the order they
 * will), completed and cancelled, the latest to reach its status first within each; or by one
 * column (`sort`, `descending`). `offset` and `count`: the rows it holds. `pinned`:
 * its open cards as `[job id, status when opened]`, listed under that status whatever theirs
 * is now; `keep`: selected jobs whose rows it keeps current. A lease, as `watch`'s: renewed
 * by sending it again; `count` 0 and nothing pinned or kept ends it.
 */
export interface JobsWindowPayload {
  view: string;
  asked: number;
  tab: "all" | "running" | "queued" | "completed" | "failed" | "cancelled";
  query?: string | null;
  history: boolean;
  stage_id?: string | null;
  sort?: "stage" | "subject" | "status" | "progress" | "elapsed" | "eta" | null;
  descending?: boolean | null;
  offset: number;
  count: number;
  pinned: [string, string][];
  keep: string[];
}

export interface JobsWindowReply {
  /** Every row the window names, whole. */
  jobs: JobTable;
  window: JobsWindow;
}

/** Jobs picked by id, or (`listed_by`: a view id) every job that view's listing holds. */
export interface JobIdsPayload {
  job_ids: string[];
  listed_by?: string | null;
}

/**
 * Raise or lower queued jobs' priority by one, or put them above every queued job
 * (`next`: they start next, in their queue order).
 */
export interface PrioritizePayload {
  job_ids: string[];
  listed_by?: string | null;
  move: "raise" | "lower" | "next";
}

/** The jobs whose logs to download. */
export interface ExportLogsPayload {
  job_ids: string[];
  /** Instead: the jobs that view's listing holds (at most `MAX_EXPORT_JOBS`). */
  listed_by?: string | null;
}

/** Which jobs of the history: text in the subject, stage, id or error; one stage; statuses. */
export interface HistoryFilters {
  text?: string | null;
  stage_id?: string | null;
  status?: string[] | null;
}

export interface HistoryPagePayload extends HistoryFilters {
  offset?: number | null;
  limit?: number | null;
}

export interface TemplateNamePayload {
  name: string;
}

/** Act on cells of the dashboard's grid, each `[subject_id, stage_id]` of its project. */
export interface CellsPayload {
  cells: [string, string][];
  action: "run" | "rerun" | "cancel";
}

/** Save a stage choice (and the selected subjects, by name) as a template. */
export interface SaveTemplatePayload {
  name: string;
  stage_ids: string[];
  subject_ids?: string[] | null;
}

/** Rate a subject's stage (null removes the rating). */
export interface SetQcPayload {
  subject_id: string;
  stage_id: string;
  rating: "pass" | "fail" | null;
  note?: string | null;
}

export interface OutputPayload {
  job_id: string;
  index: number;
}

export interface PicturePayload {
  job_id: string;
  index: number;
  size: "thumb" | "full";
}

export interface SubjectPayload {
  subject_id: string;
}

export interface ExportQcPayload {
  only_failed: boolean;
}

/** How many jobs a batch action did, how many it skipped, and the first few distinct reasons. */
export interface BatchDone {
  done: number;
  skipped: number;
  reasons: string[];
}

/** What a batch action on grid cells did. */
export interface CellsDone {
  action: "run" | "rerun" | "cancel";
  /** Distinct cells named. */
  cells: number;
  /** Cells given a new job (run, rerun) or whose job was cancelled. */
  acted: number;
  /**
   * Jobs queued or cancelled, those of cells outside the selection included (dependencies
   * queued with a run; queued dependents a cancel took with it).
   */
  jobs: number;
}

export interface Prioritized {
  changed: number;
  /** Jobs that were not queued. */
  skipped: number;
}

/** A text file for the view to save. */
export interface Download {
  file_name: string;
  text: string;
  jobs: number;
}

export interface HistoryTableRow {
  job_id: string;
  /** The subject's name (null if the subject is gone). */
  subject: string | null;
  stage: string;
  status: JobStatus;
  attempt: number;
  queued_time: number;
  queue_wait: number | null;
  run_time: number | null;
  peak_memory_rss: number | null;
  error: string | null;
}

export interface HistoryPage {
  /** Jobs that match the filters. */
  total: number;
  offset: number;
  rows: HistoryTableRow[];
}

/** What the dashboard shows of a template (runner options stay in Python). */
export interface TemplateRow {
  name: string;
  stages: string[] | null;
  /** Subject names, or one glob pattern; null: every subject. */
  subjects: string | string[] | null;
  max_concurrent: number | null;
  has_options: boolean;
}

export interface Templates {
  templates: TemplateRow[];
}

export interface SavedTemplate extends Templates {
  template: TemplateRow;
}

/** What a view shows of a job output (the file's name, not its folder). */
export interface OutputRow {
  index: number;
  kind: "image" | "map" | "table" | "curve" | "file" | "value" | "qc";
  label: string;
  group: string | null;
  unit: string | null;
  value: string | number | number | boolean | null;
  file: string | null;
  exists: boolean;
}

export interface JobOutputs {
  job_id: string;
  outputs: OutputRow[];
}

/** The reply's one binary buffer is the PNG. */
export interface PictureInfo {
  mime: string;
  width: number;
  height: number;
}

export interface TableText {
  columns: string[];
  rows: string[][];
  truncated: boolean;
}

export interface FidelityRowOut {
  tissue: string;
  quantity: string;
  model: string;
  unit: string;
  true: number;
  fitted: number | null;
  relative_error: number | null;
  note: string;
}

export interface Fidelity {
  rows: FidelityRowOut[];
}

export interface QcTsv {
  tsv: string;
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
  jobs_window: { payload: JobsWindowPayload; result: JobsWindowReply };
  cancel_many: { payload: JobIdsPayload; result: BatchDone };
  retry_many: { payload: JobIdsPayload; result: BatchDone };
  prioritize: { payload: PrioritizePayload; result: Prioritized };
  export_logs: { payload: ExportLogsPayload; result: Download };
  history_page: { payload: HistoryPagePayload; result: HistoryPage };
  export_history_logs: { payload: HistoryFilters; result: Download };
  export_csv: { payload: HistoryFilters; result: Download };
  templates: { payload: NoPayload; result: Templates };
  save_template: { payload: SaveTemplatePayload; result: SavedTemplate };
  run_template: { payload: TemplateNamePayload; result: Queued };
  cells: { payload: CellsPayload; result: CellsDone };
  delete_template: { payload: TemplateNamePayload; result: Templates };
  set_qc: { payload: SetQcPayload; result: QcRatingRow | null };
  export_qc: { payload: ExportQcPayload; result: QcTsv };
  outputs: { payload: JobPayload; result: JobOutputs };
  picture: { payload: PicturePayload; result: PictureInfo };
  table: { payload: OutputPayload; result: TableText };
  fidelity: { payload: SubjectPayload; result: Fidelity | null };
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
  history: { snapshot: HistorySnapshot; patch: HistoryPatch };
  qc: { snapshot: QcSnapshot; patch: QcPatch };
  review: { snapshot: ReviewSnapshot; patch: ReviewPatch };
}

export const MAX_WATCHED = 8;
export const MAX_BATCH_CELLS = 20000;
export const WINDOW_MAX_ROWS = 400;
export const MAX_KEPT = 2000;
