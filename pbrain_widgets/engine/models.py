"""Typed records the engine keeps: projects, subjects, jobs, log entries, job outputs, QC ratings
and status enums.

Times are POSIX timestamps (float seconds, UTC). Every record has a ``to_dict()`` that is
JSON-ready (enums become their string values).
"""

from __future__ import annotations

import dataclasses
import enum
import time
from dataclasses import dataclass, field, fields
from typing import Any

LOG_TAIL_LINES = 1000
"""Log lines kept in memory per job; the full log is in the job's file."""
MAX_LINE_CHARS = 65536
"""A longer log line is cut to this many characters and marked as truncated."""


class JobStatus(str, enum.Enum):
    """Life cycle of a job: ``queued -> running -> completed | failed | cancelled``."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_active(self) -> bool:
        """Queued or running: the job has not ended yet."""
        return self in ACTIVE_JOB_STATUSES

    def __str__(self) -> str:
        return self.value


ACTIVE_JOB_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


class StageStatus(str, enum.Enum):
    """State of one pipeline stage for one subject.

    - ``not_run``: no result; nothing has run, or the last run was cancelled or skipped.
    - ``queued``: a job for it waits in the queue (for a free slot or for its dependencies).
    - ``running``: a job for it is running now.
    - ``done``: its last job completed; its outputs are current.
    - ``failed``: its last job failed (or was interrupted by a kernel restart).
    - ``waiting``: its last job stopped because it needs a user action (e.g. drawing an ROI).
    - ``stale``: it was done, but a stage it depends on (directly or not) completed again since:
      its outputs may be out of date. ``Subject.stale_reasons`` says why ("input t1_fit re-ran
      at 14:02"); a default run queues it again, like a stage that is not done.

    A cancelled job, or a queued one skipped because a dependency failed, puts the stage back to
    the status it had before that job was queued.
    """

    NOT_RUN = "not_run"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    WAITING = "waiting"
    STALE = "stale"

    def __str__(self) -> str:
        return self.value


class LogLevel(str, enum.Enum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    PROGRESS = "PROGRESS"
    WARNING = "WARNING"
    ERROR = "ERROR"
    SUCCESS = "SUCCESS"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | LogLevel) -> LogLevel:
        """The level named by ``value`` (case-insensitive; ``WARN`` and ``CRITICAL`` accepted)."""
        if isinstance(value, LogLevel):
            return value
        name = str(value).strip().upper()
        name = {"WARN": "WARNING", "CRITICAL": "ERROR", "FATAL": "ERROR"}.get(name, name)
        try:
            return cls(name)
        except ValueError:
            from ..errors import InvalidArgumentError

            valid = ", ".join(level.value for level in cls)
            raise InvalidArgumentError(f"unknown log level {value!r}; valid levels: {valid}") from None


class OutputKind(str, enum.Enum):
    """What a job output is, which decides how a view shows it.

    - ``image``: a figure file (PNG, JPEG, SVG), shown as a thumbnail;
    - ``map``: a volume (NIfTI), shown as a mid-slice montage rendered in the kernel;
    - ``table``: a CSV / TSV file, shown as a table;
    - ``curve``: a time curve (JSON with a time axis and values), shown as a small plot;
    - ``file``: any other file, listed;
    - ``value``: a number or short text without a file (a QC metric, a timing);
    - ``qc``: a QC verdict of the tool itself (``pass``, ``warn`` or ``fail``), shown as a badge.
    """

    IMAGE = "image"
    MAP = "map"
    TABLE = "table"
    CURVE = "curve"
    FILE = "file"
    VALUE = "value"
    QC = "qc"

    def __str__(self) -> str:
        return self.value

    @property
    def has_file(self) -> bool:
        """Whether an output of this kind names a file (``value`` and ``qc`` hold a value)."""
        return self not in (OutputKind.VALUE, OutputKind.QC)


QC_VERDICTS = ("pass", "warn", "fail")
"""The values of a ``qc`` output (a tool's own verdict)."""


class QcRating(str, enum.Enum):
    """A reviewer's rating of one subject's stage: it passes (kept) or fails (excluded)."""

    PASS = "pass"
    FAIL = "fail"

    def __str__(self) -> str:
        return self.value


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_SCALARS = (str, int, float, bool, type(None))


class _Record:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict."""
        out = {}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            out[name] = value if type(value) in _SCALARS else _plain(value)
        return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


@dataclass
class Project(_Record):
    id: str
    name: str
    storage_path: str | None
    pipeline: dict[str, Any]
    """The pipeline's definition (stage ids, labels, dependencies) as stored."""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass
class Subject(_Record):
    id: str
    project_id: str
    name: str
    source_path: str | None = None
    has_t1: bool = False
    has_dce: bool = False
    has_diffusion: bool = False
    stage_statuses: dict[str, StageStatus] = field(default_factory=dict)
    stale_reasons: dict[str, str] = field(default_factory=dict)
    """For each stage that is (or was, until it ran again) ``stale``: why, e.g.
    ``"input t1_fit re-ran at 14:02"``."""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


MAX_STEPS = 64
"""Step changes kept per job (the first ones: a step that changes fast keeps its start)."""
MAX_STEP_CHARS = 120


@dataclass(slots=True)
class Job(_Record):
    id: str
    project_id: str
    subject_id: str
    stage_id: str
    status: JobStatus = JobStatus.QUEUED
    progress: float = 0.0
    current_step: str = ""
    queued_at: float = field(default_factory=time.time)
    start_time: float | None = None
    end_time: float | None = None
    error: str | None = None
    log_path: str | None = None
    eta_seconds: float | None = None
    attempt: int = 1
    retry_of: str | None = None
    priority: int = 0
    depends_on: tuple[str, ...] = ()
    """Ids of the jobs that must complete before this one starts."""
    blocked_by: str | None = None
    """For a job skipped because an upstream job failed or was cancelled: that job's id."""
    previous_stage_status: StageStatus = StageStatus.NOT_RUN
    """The subject's stage status when this job was queued (restored if it is cancelled)."""
    cpu_percent: float | None = None
    memory_rss: int | None = None
    peak_cpu_percent: float | None = None
    peak_memory_rss: int | None = None
    resource_history: tuple[tuple[float, float, int], ...] = ()
    """Recent ``(time, cpu_percent, rss_bytes)`` samples of the job's processes."""
    steps: tuple[tuple[float, str], ...] = ()
    """``(time, step)`` for each change of the runner's step while the job ran (the first
    :data:`MAX_STEPS`, each cut to :data:`MAX_STEP_CHARS` characters). A tuple, not a list:
    a cohort holds 100,000s of jobs, and tuples of plain values cost the garbage collector
    nothing."""
    seq: int = 0
    """Queue order (monotonic per engine) used to break priority ties."""
    runner_options: dict[str, Any] | None = None
    """Options for the runner (from a run template), seen by it as ``ctx.options``."""
    worker: str | None = None
    """Where the job ran when an executor placed it off the kernel's own loop (a Dask worker's
    address); ``None`` for the kernel's machine."""

    @property
    def queued_time(self) -> float:
        """When the job was queued (the same as :attr:`queued_at`)."""
        return self.queued_at

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to now while running)."""
        if self.start_time is None:
            return None
        return (self.end_time or time.time()) - self.start_time

    def copy(self) -> Job:
        """A snapshot that later changes of this job do not affect (its fields are immutable
        values: a shallow copy, field by field, four times faster than ``copy.copy``)."""
        clone = object.__new__(Job)
        for name in _JOB_FIELDS:
            setattr(clone, name, getattr(self, name))
        return clone


_JOB_FIELDS = tuple(f.name for f in fields(Job))


@dataclass(frozen=True, slots=True)
class LogEntry(_Record):
    seq: int
    """Position in its job's log: 1, 2, 3... without gaps."""
    time: float
    level: LogLevel
    message: str


@dataclass(frozen=True)
class StatusUpdate(_Record):
    """A subject's stage changed status."""

    project_id: str
    subject_id: str
    stage_id: str
    status: StageStatus


@dataclass(frozen=True)
class Output(_Record):
    """One thing a job produced (see :class:`OutputKind`), as its runner reported it."""

    job_id: str
    index: int
    """Position among the job's outputs: 0, 1, 2... in the order they were reported."""
    kind: OutputKind
    label: str
    path: str | None = None
    """Absolute path of the file (``None`` for ``value`` and ``qc`` outputs)."""
    value: str | int | float | bool | None = None
    unit: str | None = None
    group: str | None = None
    """What the output belongs to inside its stage (e.g. ``patlak``, ``diagnostics``), for grouping."""
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class QcEntry(_Record):
    """A reviewer's rating of one subject's stage, with an optional note."""

    subject_id: str
    stage_id: str
    rating: QcRating
    note: str = ""
    time: float = field(default_factory=time.time)
