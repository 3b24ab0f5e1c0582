"""The wire protocol between a widget's kernel side and its views, typed once.

Every message, every action's payload and result, and every feed's snapshot and patch is a
``TypedDict`` (or a type alias) here; :data:`ACTIONS` names every action a view may request, once.
The rules (revisions, resync, throttling, threads) are described in
:mod:`pbrain_widgets.widgets.sync`. Payload limits ride on the types as :class:`Limits`
(``Annotated[str, Limits(max_len=64)]``), so that the schema that validates a payload
(:func:`pbrain_widgets.widgets.validation.schema_of`) is this type and nothing else.

The front end's copy, ``js/src/protocol.ts``, is generated from this module
(``python -m pbrain_widgets.widgets.protocol_ts > js/src/protocol.ts``); a test fails when the
two drift.

Compact shapes (why the records look the way they do): a job list travels as a
:class:`JobTable` (one column per field, repeated values dictionary-coded), a change of known
jobs as :data:`FieldChanges` (per field, ``[seq, value]`` pairs: a job's ``seq`` is its compact
id on the wire), ETAs in whole seconds, and the dashboard sends the cells that changed, so that
4,000 jobs with 50 running cost a few tens of KB a second.
"""

# no `from __future__ import annotations`: TypedDict needs evaluated NotRequired[...] to know
# which keys are required
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple

from typing_extensions import NotRequired, TypedDict

from ..engine.models import JobStatus, LogLevel, OutputKind, QcRating, StageStatus


@dataclass(frozen=True)
class Limits:
    """Size limits of a payload field: string length (also of each string in a list), list
    length, integer range."""

    max_len: int = 256
    max_items: int = 10_000
    minimum: int = 0
    maximum: int = 1_000_000_000


MAX_ID_CHARS = 64
"""Longest request id, job, subject or view id a view may send."""
MAX_WATCHED = 8
"""Jobs one view may watch at once (expanded job cards, a subject's stage...)."""
MAX_TABLE_ROWS = 2000
"""Most timeline rows one message carries (about 0.25 MB): a longer list follows in the next
patches, one every :data:`~pbrain_widgets.widgets.channel.STATE_INTERVAL`, so that making one
holds the engine's loop 20-35 ms, not more (the JobMonitor sends only what views show)."""
QUEUE_SHOWN = 500
"""The first this many jobs of the start order travel to the views (a view shows "#n in queue")."""
WINDOW_MAX_ROWS = 400
"""Most rows of its listing one JobMonitor view holds (a few screens around what it shows)."""
MAX_KEPT = 2000
"""Most selected jobs a JobMonitor view keeps current besides its window."""
MAX_FAILED_NEWS = 20
"""Most failed jobs one patch names (the others are counted)."""
MAX_SUBJECT_ROWS = 1000
"""Most subject rows one message carries whole (about 0.35 MB for 10 stages): a longer list
follows in the next patches."""
MAX_EXPORT_JOBS = 2000
"""Most jobs whose logs one download holds."""
HISTORY_PAGE_MAX = 200
"""Most rows of one page of the history table."""
MAX_BATCH_CELLS = 20_000
"""Most grid cells one dashboard batch action names (2,000 subjects x 10 stages)."""

# -- names -------------------------------------------------------------------------------------

JobStatusName = Annotated[str, JobStatus]
"""A :class:`~pbrain_widgets.JobStatus` value (``"queued"``, ``"running"``...)."""
StageStatusName = Annotated[str, StageStatus]
"""A :class:`~pbrain_widgets.StageStatus` value (``"not_run"``, ``"done"``...)."""
LogLevelName = Annotated[str, LogLevel]
"""A :class:`~pbrain_widgets.LogLevel` value (``"INFO"``, ``"ERROR"``...)."""
QcRatingName = Annotated[str, QcRating]
"""A :class:`~pbrain_widgets.QcRating` value (``"pass"`` or ``"fail"``)."""
OutputKindName = Annotated[str, OutputKind]
"""A :class:`~pbrain_widgets.OutputKind` value (``"image"``, ``"map"``...)."""
Id = Annotated[str, Limits(max_len=MAX_ID_CHARS)]
"""A job, subject or view id sent by a view."""
StageId = Annotated[str, Limits(max_len=128)]
"""A stage id sent by a view."""

# -- records -----------------------------------------------------------------------------------


class JobRow(TypedDict):
    """A job as views see it: no resource history, numbers rounded to what a view shows."""

    id: str
    project_id: str
    subject_id: str
    stage_id: str
    status: JobStatusName
    progress: float
    """Percent, one decimal."""
    current_step: str
    queued_at: float
    """Kernel time (seconds since the epoch), to the millisecond; so are start and end."""
    start_time: float | None
    end_time: float | None
    error: str | None
    log_path: str | None
    eta_seconds: int | None
    """Whole seconds, so that a running job's ETA changes once a second at most."""
    attempt: int
    priority: int
    """Higher starts first among queued jobs (0 by default)."""
    retry_of: str | None
    blocked_by: str | None
    cpu_percent: float | None
    memory_rss: int | None
    peak_memory_rss: int | None
    seq: int
    """Unique per engine, increasing: the job's compact id in changes."""


class FillColumn(TypedDict):
    """Every row of the column holds ``fill``."""

    fill: Any


class CodedColumn(TypedDict):
    """Row i holds ``values[codes[i]]`` (a column with few distinct values)."""

    values: list[Any]
    codes: list[int]


Column = list[Any] | FillColumn | CodedColumn
"""One field of a table: the values in row order, or one of the compact forms."""


class JobTable(TypedDict):
    """``n`` jobs as columns: ``columns[field]`` for every field of :class:`JobRow`."""

    n: int
    columns: dict[str, Column]


FieldChanges = dict[str, list[tuple[int, Any]]]
"""Changed fields of known jobs: ``{field: [[seq, new value], ...]}``."""

LogLine = tuple[int, float, LogLevelName, str]
"""``[seq, time, level, message]``; ``seq`` counts a job's lines from 1 without gaps."""


class StageRow(TypedDict):
    id: str
    label: str
    depends_on: list[str]


class SubjectRow(TypedDict):
    id: str
    name: str
    has_t1: bool
    has_dce: bool
    has_diffusion: bool
    statuses: dict[str, StageStatusName]
    """Stage id -> status, for the stages that have one."""


class ProjectRef(TypedDict):
    id: str
    name: str


TimelineRow = tuple[str, str, str, JobStatusName, float, float | None, float | None, int, str | None]
"""``[id, subject_id, stage_id, status, queued_at, start_time, end_time, attempt, worker]``;
``worker`` is a Dask worker's address, or null for the kernel's machine."""
Mark = tuple[float, str]
"""``[time, step]``: a step change inside a running job."""
ResourceRow = tuple[int, float, int] | tuple[int, float, int, dict[str, tuple[float, int]]]
"""``[second, total cpu percent, total rss bytes]`` of the running jobs, and
``{worker: [cpu percent, rss bytes]}`` when jobs of that second ran on workers ("" is the
kernel's machine)."""

# -- feeds: snapshot and patch of each -------------------------------------------------------


StatusCounts = dict[str, int]
"""Jobs per status (``queued``, ``running``...), counting only the newest attempt of each
subject x stage."""


class JobsSnapshot(TypedDict):
    """What a JobMonitor's views share: how many jobs there are per status, the names to show
    and the start order. No rows: each view asks for the rows it shows (``jobs_window``)."""

    total: int
    """Jobs in the scope, every attempt."""
    counts: StatusCounts
    stage_counts: dict[str, StatusCounts]
    """The same per stage id (the tabs follow a stage in focus)."""
    subjects: dict[str, str]
    """Subject id -> name."""
    stages: dict[str, str]
    """Stage id -> label."""
    queue: list[int]
    """The first :data:`QUEUE_SHOWN` queued jobs that are ready to start (their ``seq``), in
    the order they will start."""


class RunRow(TypedDict):
    """A run (the jobs one action queued) that finished."""

    run_id: int
    action: str
    message: str
    ok: bool
    jobs: int
    completed: int
    failed: int
    cancelled: int
    root_failed_ids: list[str]
    """The first root failures (at most 20)."""


class FailedJob(TypedDict):
    """A job that failed itself (not one skipped because a job it depends on failed), as a view
    announces it."""

    id: str
    subject_id: str
    stage_id: str


class JobsEnded(TypedDict):
    """Jobs that completed or failed since the last patch (a tone, a notification)."""

    completed: int
    failed: list[FailedJob]
    """The first :data:`MAX_FAILED_NEWS` of those that failed themselves."""
    more_failed: int
    """Such failures beyond those."""


class Actionable(TypedDict):
    cancel: int
    """Queued or running."""
    retry: int
    """Failed or cancelled, and the newest attempt."""
    queued: int


class JobsWindow(TypedDict):
    """The rows one view shows of its listing (see :class:`JobsWindowPayload`), by ``seq``.
    A view holds the rows of ``ids`` and ``held`` and no others."""

    asked: int
    """The ``asked`` of the request this answers (a view ignores answers to older ones)."""
    offset: int
    """The place of ``ids[0]`` in the listing."""
    listed: int
    """Rows in the whole listing."""
    ids: list[int]
    held: list[int]
    """The other rows the view holds: its open and selected jobs, earlier attempts."""
    earlier: list[tuple[int, list[int]]]
    """``[seq, earlier attempts' seqs, newest first]`` for the held jobs that have some."""
    superseded: list[int]
    """Held jobs that a newer attempt of their subject x stage superseded."""
    actionable: Actionable
    """What a batch action on the whole listing would act on."""


class JobsPatch(TypedDict):
    jobs: NotRequired[JobTable]
    """Jobs that a view holds now and did not before (whole rows)."""
    changes: NotRequired[FieldChanges]
    """Held jobs: only the fields that changed."""
    windows: NotRequired[dict[str, JobsWindow]]
    """View id -> its window, when its rows or their order changed."""
    total: NotRequired[int]
    counts: NotRequired[StatusCounts]
    stage_counts: NotRequired[dict[str, StatusCounts]]
    """The stages whose counts changed."""
    subjects: NotRequired[dict[str, str]]
    """New subjects."""
    queue: NotRequired[list[int]]
    """The start order's first jobs again, when it changed."""
    ended: NotRequired[JobsEnded]
    finished: NotRequired[list[RunRow]]
    """The runs of this scope that finished since the last patch (each once, never in a
    snapshot: a view that was not there does not announce them again)."""


class JobSnapshot(TypedDict):
    job: JobRow
    subject: str
    """The job's subject's name."""
    stage: str
    """The job's stage's label."""


class JobPatch(TypedDict):
    job: NotRequired[JobRow]
    """The whole row, after a snapshot that was newer than the last patch."""
    changes: NotRequired[FieldChanges]


class LogsSnapshot(TypedDict):
    tails: dict[str, list[LogLine]]
    """The pinned job's last lines (a LogStream's job), by job id."""


class LogsPatch(TypedDict):
    lines: dict[str, list[LogLine]]
    """New lines of the watched jobs, by job id."""


class ProjectSnapshot(TypedDict):
    project: ProjectRef
    stages: list[StageRow]
    subjects: list[SubjectRow]
    """The first :data:`MAX_SUBJECT_ROWS` subjects; the others follow in the next patches."""
    total: int
    """Subjects in the project: more than ``subjects`` holds while the rest is on its way."""
    active: dict[str, int]
    """Subject id -> its queued and running jobs, for the subjects of ``subjects`` that have
    some (a patch that sends a subject's row whole sends its count)."""
    active_total: int
    """Queued and running jobs of the project."""
    progress: dict[str, dict[str, int]]
    """Subject id -> {stage id -> whole percent of its running job}."""


class ProjectPatch(TypedDict):
    subjects: NotRequired[list[SubjectRow]]
    """New subjects and subjects whose name or modalities changed (whole rows)."""
    cells: NotRequired[dict[str, dict[str, StageStatusName]]]
    """Subject id -> {stage id -> status}: the cells of the grid that changed."""
    active: NotRequired[dict[str, int]]
    """Subject id -> its queued and running jobs (0 included) that changed, or whose row went whole."""
    active_total: NotRequired[int]
    progress: NotRequired[dict[str, dict[str, int]]]
    """A subject's running percents, whole (``{}`` when none of its jobs runs)."""


class SubjectSnapshot(TypedDict):
    subject: SubjectRow | None
    stages: list[StageRow]
    latest: dict[str, JobRow]
    """Stage id -> the newest job of that stage."""


class SubjectPatch(TypedDict):
    reset: NotRequired[SubjectSnapshot]
    """The feed follows another subject: the new state, whole."""
    subject: NotRequired[SubjectRow]
    latest: NotRequired[dict[str, JobRow]]
    """Stages whose newest job is one the views have not seen (whole rows)."""
    changes: NotRequired[FieldChanges]
    """Changed fields of the newest jobs the views have."""


class FocusState(TypedDict):
    """The stage in focus (snapshot and patch alike)."""

    stage_id: str | None
    label: str | None


class GraphSnapshot(TypedDict):
    project: ProjectRef
    stages: list[StageRow]
    counts: dict[str, dict[str, int]]
    """Stage id -> {count key -> subjects}; count keys: done, stale, running, queued, waiting,
    failed, not_run."""
    median: dict[str, float | None]
    """Stage id -> median run time of its completed runs, seconds."""
    blocked: list[tuple[str, str]]
    """``[from, to]`` dependencies blocked by a failure."""
    subjects: int


class GraphPatch(TypedDict):
    counts: NotRequired[dict[str, dict[str, int]]]
    median: NotRequired[dict[str, float | None]]
    blocked: NotRequired[list[tuple[str, str]]]
    subjects: NotRequired[int]


class TimelineSnapshot(TypedDict):
    jobs: list[TimelineRow]
    """The newest jobs (at most :data:`MAX_TABLE_ROWS`), oldest first; the older ones follow
    in the next patches."""
    total: int
    """Jobs on the timeline: more than ``jobs`` holds while the rest is on its way."""
    subjects: dict[str, str]
    stages: dict[str, str]
    order: list[str]
    """Stage ids in pipeline order."""
    marks: dict[str, list[Mark]]
    resources: list[ResourceRow]


class TimelinePatch(TypedDict):
    jobs: NotRequired[list[TimelineRow]]
    subjects: NotRequired[dict[str, str]]
    marks: NotRequired[dict[str, list[Mark]]]
    resources: NotRequired[list[ResourceRow]]


class StageCount(TypedDict):
    """Completed run times of a stage: how many, and ``[min, p25, median, p75, p90, max]``."""

    n: int
    q: list[float]


class FailureBins(TypedDict):
    """Failed jobs per time bin (by end time): root failures apart from the jobs skipped
    because of one; all null / empty without failures."""

    start: float | None
    width: float | None
    roots: list[int]
    skipped: list[int]


class FailureGroupRow(TypedDict):
    stage_id: str
    signature: str
    example_error: str
    count: int
    roots: int
    skipped: int
    subjects: int


class StageStatsRow(TypedDict):
    stage_id: str
    label: str
    runs: int
    completed: int
    failed: int
    success_rate: float | None
    median_run_time: float | None
    p90_run_time: float | None
    median_queue_wait: float | None
    p90_queue_wait: float | None


class Analytics(TypedDict):
    runs: int
    """Jobs that ran and ended completed or failed."""
    stats: list[StageStatsRow]
    durations: dict[str, StageCount]
    """Stage id -> its completed run times."""
    failures: FailureBins
    groups: list[FailureGroupRow]
    """The largest failure groups."""


class HistorySnapshot(TypedDict):
    stages: dict[str, str]
    analytics: Analytics


class HistoryPatch(TypedDict):
    """New analytics when jobs ended (recomputed at most every two seconds)."""

    analytics: Analytics


class QcRatingRow(TypedDict):
    rating: QcRatingName
    note: str
    time: float


class QcSnapshot(TypedDict):
    ratings: dict[str, dict[str, QcRatingRow]]
    """Subject id -> {stage id -> rating}."""


class QcPatch(TypedDict):
    ratings: dict[str, dict[str, QcRatingRow | None]]
    """Subject id -> {stage id -> rating, or null when it was removed}."""


class ReviewTile(TypedDict):
    """One subject of a QC review: its latest completed job of the stage and the reviewed
    output's index (null when there is none)."""

    subject_id: str
    name: str
    job_id: str | None
    index: int | None


class ReviewStage(TypedDict):
    id: str
    label: str


class ReviewSnapshot(TypedDict):
    project: str
    """The project's name."""
    stage: ReviewStage
    label: str | None
    """The reviewed output's label (null: each job's first picture)."""
    labels: list[str]
    """The picture labels seen so far (the choices of another output to review)."""
    tiles: list[ReviewTile]


class ReviewPatch(TypedDict):
    tiles: list[ReviewTile]
    labels: list[str]


# -- messages ------------------------------------------------------------------------------


class Request(TypedDict):
    """View -> kernel. ``id`` is 1 to 64 printable characters, ``<view prefix>:<n>``."""

    kind: Literal["request"]
    id: str
    action: str
    payload: NotRequired[dict[str, Any]]


class ReplyOk(TypedDict):
    kind: Literal["reply"]
    id: str | None
    ok: Literal[True]
    result: Any


class ReplyError(TypedDict):
    """``id`` is null when the request had no valid id."""

    kind: Literal["reply"]
    id: str | None
    ok: Literal[False]
    error: str


class Patch(TypedDict):
    """What changed in one widget since its previous patch, numbered 1, 2, 3... per widget."""

    rev: int
    parts: dict[str, Any]
    """Feed name -> that feed's patch."""


class Patches(TypedDict):
    """Engine channel -> views: one flush of every widget of the engine that changed."""

    kind: Literal["patches"]
    t: float
    """Kernel time."""
    patches: dict[str, Patch]
    """Widget's channel key (its ``_channel_key`` trait) -> its patch."""


class Health(TypedDict):
    """The kernel's health, as a beat or a ``ping`` reply tells it."""

    busy: bool
    store_error: str | None
    closed: bool
    """The widget's engine was closed: nothing will change, every action but snapshot and ping fails."""
    t: float


class Beat(Health):
    kind: Literal["beat"]


class Snapshot(TypedDict):
    """The full state now, at revision ``rev`` (the last patch sent)."""

    rev: int
    t: float
    store_error: str | None
    closed: bool
    parts: dict[str, Any]
    """Feed name -> that feed's snapshot."""


KernelMessage = ReplyOk | ReplyError | Beat
"""Kernel -> views, on the widget's own comm (patches travel on the engine channel: :class:`Patches`)."""

# -- actions: payloads and results -----------------------------------------------------------


class NoPayload(TypedDict):
    pass


class JobPayload(TypedDict):
    job_id: Id


class WatchPayload(TypedDict):
    """Follow these jobs' new lines under the view's id (a lease, renewed by sending it again;
    an empty list ends it)."""

    view: Id
    job_ids: Annotated[list[str], Limits(max_len=MAX_ID_CHARS, max_items=MAX_WATCHED)]


class LogsPayload(TypedDict):
    """A page of a job's log: the ``limit`` lines before line ``before`` (the last ones if none)."""

    job_id: Id
    before: NotRequired[Annotated[int, Limits(minimum=1)] | None]
    limit: Annotated[int, Limits(minimum=1, maximum=5000)]


class RunPipelinePayload(TypedDict):
    """Queue the stages (default all) of the subjects (default all) that are not done; with
    ``rerun_done``, done ones too."""

    subject_ids: NotRequired[Annotated[list[str], Limits(max_len=MAX_ID_CHARS)] | None]
    stage_ids: NotRequired[Annotated[list[str], Limits(max_len=128, max_items=100)] | None]
    rerun_done: NotRequired[bool | None]


class StagePayload(TypedDict):
    stage_id: StageId


class MaybeStagePayload(TypedDict):
    stage_id: StageId | None


class MaybeSubjectPayload(TypedDict):
    subject_id: Id | None


class Cancelled(TypedDict):
    cancelled: int


class Tails(TypedDict):
    tails: dict[str, list[LogLine]]
    """The last lines of each job newly watched, by job id."""


class LogPage(TypedDict):
    job_id: str
    before: int | None
    lines: list[LogLine]


class Queued(TypedDict):
    jobs: int
    """Jobs queued."""


class StageRef(TypedDict):
    stage_id: str | None


class SubjectRef(TypedDict):
    subject_id: str | None


JobsTab = Literal["all", "running", "queued", "completed", "failed", "cancelled"]
JobSortKey = Literal["stage", "subject", "status", "progress", "elapsed", "eta"]


class JobsWindowPayload(TypedDict):
    """What one JobMonitor view lists and which of its rows it shows.

    The listing: the jobs under ``tab``, the newest attempt of each subject x stage (every
    attempt with ``history``), of the stage ``stage_id`` if given, whose subject, stage or id
    holds ``query``; running first, then failed, queued (those ready to start in the order they
    will), completed and cancelled, the latest to reach its status first within each; or by one
    column (``sort``, ``descending``). ``offset`` and ``count``: the rows it holds. ``pinned``:
    its open cards as ``[job id, status when opened]``, listed under that status whatever theirs
    is now; ``keep``: selected jobs whose rows it keeps current. A lease, as ``watch``'s: renewed
    by sending it again; ``count`` 0 and nothing pinned or kept ends it."""

    view: Id
    asked: int
    tab: JobsTab
    query: NotRequired[Annotated[str, Limits(max_len=200)] | None]
    history: bool
    stage_id: NotRequired[StageId | None]
    sort: NotRequired[JobSortKey | None]
    descending: NotRequired[bool | None]
    offset: int
    count: Annotated[int, Limits(maximum=WINDOW_MAX_ROWS)]
    pinned: Annotated[list[tuple[str, str]], Limits(max_len=MAX_ID_CHARS, max_items=MAX_WATCHED)]
    keep: Annotated[list[str], Limits(max_len=MAX_ID_CHARS, max_items=MAX_KEPT)]


class JobsWindowReply(TypedDict):
    jobs: JobTable
    """Every row the window names, whole."""
    window: JobsWindow


class JobIdsPayload(TypedDict):
    """Jobs picked by id, or (``listed_by``: a view id) every job that view's listing holds."""

    job_ids: Annotated[list[str], Limits(max_len=MAX_ID_CHARS, max_items=10_000)]
    listed_by: NotRequired[Id | None]


class PrioritizePayload(TypedDict):
    """Raise or lower queued jobs' priority by one, or put them above every queued job
    (``next``: they start next, in their queue order)."""

    job_ids: Annotated[list[str], Limits(max_len=MAX_ID_CHARS, max_items=10_000)]
    listed_by: NotRequired[Id | None]
    move: Literal["raise", "lower", "next"]


class ExportLogsPayload(TypedDict):
    """The jobs whose logs to download."""

    job_ids: Annotated[list[str], Limits(max_len=MAX_ID_CHARS, max_items=MAX_EXPORT_JOBS)]
    listed_by: NotRequired[Id | None]
    """Instead: the jobs that view's listing holds (at most :data:`MAX_EXPORT_JOBS`)."""


class HistoryFilters(TypedDict):
    """Which jobs of the history: text in the subject, stage, id or error; one stage; statuses."""

    text: NotRequired[Annotated[str, Limits(max_len=200)] | None]
    stage_id: NotRequired[StageId | None]
    status: NotRequired[Annotated[list[str], Limits(max_len=16, max_items=5)] | None]


class HistoryPagePayload(HistoryFilters):
    offset: NotRequired[int | None]
    limit: NotRequired[Annotated[int, Limits(minimum=1, maximum=HISTORY_PAGE_MAX)] | None]


class TemplateNamePayload(TypedDict):
    name: Annotated[str, Limits(max_len=128)]


CellAction = Literal["run", "rerun", "cancel"]
"""What a dashboard batch action does to its cells: ``run`` queues those not done (with their
dependencies not done), ``rerun`` done ones too, ``cancel`` cancels their queued or running jobs."""


class CellsPayload(TypedDict):
    """Act on cells of the dashboard's grid, each ``[subject_id, stage_id]`` of its project."""

    cells: Annotated[list[tuple[str, str]], Limits(max_len=128, max_items=MAX_BATCH_CELLS)]
    action: CellAction


class SaveTemplatePayload(TypedDict):
    """Save a stage choice (and the selected subjects, by name) as a template."""

    name: Annotated[str, Limits(max_len=128)]
    stage_ids: Annotated[list[str], Limits(max_len=128, max_items=100)]
    subject_ids: NotRequired[Annotated[list[str], Limits(max_len=MAX_ID_CHARS)] | None]


class SetQcPayload(TypedDict):
    """Rate a subject's stage (null removes the rating)."""

    subject_id: Id
    stage_id: StageId
    rating: Literal["pass", "fail"] | None
    note: NotRequired[Annotated[str, Limits(max_len=2000)] | None]


class OutputPayload(TypedDict):
    job_id: Id
    index: Annotated[int, Limits(maximum=100_000)]


class PicturePayload(TypedDict):
    job_id: Id
    index: Annotated[int, Limits(maximum=100_000)]
    size: Literal["thumb", "full"]


class SubjectPayload(TypedDict):
    subject_id: Id


class ExportQcPayload(TypedDict):
    only_failed: bool


class BatchDone(TypedDict):
    """How many jobs a batch action did, how many it skipped, and the first few distinct reasons."""

    done: int
    skipped: int
    reasons: list[str]


class CellsDone(TypedDict):
    """What a batch action on grid cells did."""

    action: CellAction
    cells: int
    """Distinct cells named."""
    acted: int
    """Cells given a new job (run, rerun) or whose job was cancelled."""
    jobs: int
    """Jobs queued or cancelled, those of cells outside the selection included (dependencies
    queued with a run; queued dependents a cancel took with it)."""


class Prioritized(TypedDict):
    changed: int
    skipped: int
    """Jobs that were not queued."""


class Download(TypedDict):
    """A text file for the view to save."""

    file_name: str
    text: str
    jobs: int


class HistoryTableRow(TypedDict):
    job_id: str
    subject: str | None
    """The subject's name (null if the subject is gone)."""
    stage: str
    status: JobStatusName
    attempt: int
    queued_time: float
    queue_wait: float | None
    run_time: float | None
    peak_memory_rss: int | None
    error: str | None


class HistoryPage(TypedDict):
    total: int
    """Jobs that match the filters."""
    offset: int
    rows: list[HistoryTableRow]


class TemplateRow(TypedDict):
    """What the dashboard shows of a template (runner options stay in Python)."""

    name: str
    stages: list[str] | None
    subjects: str | list[str] | None
    """Subject names, or one glob pattern; null: every subject."""
    max_concurrent: int | None
    has_options: bool


class Templates(TypedDict):
    templates: list[TemplateRow]


class SavedTemplate(Templates):
    template: TemplateRow


class OutputRow(TypedDict):
    """What a view shows of a job output (the file's name, not its folder)."""

    index: int
    kind: OutputKindName
    label: str
    group: str | None
    unit: str | None
    value: str | int | float | bool | None
    file: str | None
    exists: bool


class JobOutputs(TypedDict):
    job_id: str
    outputs: list[OutputRow]


class PictureInfo(TypedDict):
    """The reply's one binary buffer is the PNG."""

    mime: str
    width: int
    height: int


class TableText(TypedDict):
    columns: list[str]
    rows: list[list[str]]
    truncated: bool


class FidelityRowOut(TypedDict):
    tissue: str
    quantity: str
    model: str
    unit: str
    true: float
    fitted: float | None
    relative_error: float | None
    note: str


class Fidelity(TypedDict):
    rows: list[FidelityRowOut]


class QcTsv(TypedDict):
    tsv: str


class ActionSpec(NamedTuple):
    payload: type
    result: Any


ACTIONS: dict[str, ActionSpec] = {
    "snapshot": ActionSpec(NoPayload, Snapshot),
    "ping": ActionSpec(NoPayload, Health),
    "cancel": ActionSpec(JobPayload, JobRow),
    "retry": ActionSpec(JobPayload, JobRow),
    "cancel_all": ActionSpec(NoPayload, Cancelled),
    "watch": ActionSpec(WatchPayload, Tails),
    "logs": ActionSpec(LogsPayload, LogPage),
    "run_pipeline": ActionSpec(RunPipelinePayload, Queued),
    "run_stage": ActionSpec(StagePayload, JobRow),
    "open_subject": ActionSpec(MaybeSubjectPayload, SubjectRef),
    "focus": ActionSpec(MaybeStagePayload, StageRef),
    "clear_focus": ActionSpec(NoPayload, StageRef),
    "jobs_window": ActionSpec(JobsWindowPayload, JobsWindowReply),
    "cancel_many": ActionSpec(JobIdsPayload, BatchDone),
    "retry_many": ActionSpec(JobIdsPayload, BatchDone),
    "prioritize": ActionSpec(PrioritizePayload, Prioritized),
    "export_logs": ActionSpec(ExportLogsPayload, Download),
    "history_page": ActionSpec(HistoryPagePayload, HistoryPage),
    "export_history_logs": ActionSpec(HistoryFilters, Download),
    "export_csv": ActionSpec(HistoryFilters, Download),
    "templates": ActionSpec(NoPayload, Templates),
    "save_template": ActionSpec(SaveTemplatePayload, SavedTemplate),
    "run_template": ActionSpec(TemplateNamePayload, Queued),
    "cells": ActionSpec(CellsPayload, CellsDone),
    "delete_template": ActionSpec(TemplateNamePayload, Templates),
    "set_qc": ActionSpec(SetQcPayload, QcRatingRow | None),
    "export_qc": ActionSpec(ExportQcPayload, QcTsv),
    "outputs": ActionSpec(JobPayload, JobOutputs),
    "picture": ActionSpec(PicturePayload, PictureInfo),
    "table": ActionSpec(OutputPayload, TableText),
    "fidelity": ActionSpec(SubjectPayload, Fidelity | None),
}
"""Every action a view may request: its payload type and its result type. A widget can only
offer actions named here (:class:`~pbrain_widgets.widgets.sync.SyncWidget` checks)."""

FEEDS: dict[str, tuple[Any, Any]] = {
    "jobs": (JobsSnapshot, JobsPatch),
    "job": (JobSnapshot, JobPatch),
    "logs": (LogsSnapshot, LogsPatch),
    "project": (ProjectSnapshot, ProjectPatch),
    "subject": (SubjectSnapshot, SubjectPatch),
    "focus": (FocusState, FocusState),
    "graph": (GraphSnapshot, GraphPatch),
    "timeline": (TimelineSnapshot, TimelinePatch),
    "history": (HistorySnapshot, HistoryPatch),
    "qc": (QcSnapshot, QcPatch),
    "review": (ReviewSnapshot, ReviewPatch),
}
"""Every feed by name: the type of its snapshot and of its patch."""
