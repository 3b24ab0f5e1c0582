"""Job history: every job the engine has run (all attempts), filtered and searched.

The engine keeps every job record in memory (loaded from the store at start), so the filters on
project, subject, stage, status and time run over those records. Text search uses the store's
SQLite FTS5 index of each ended job's error and log (its last :data:`LOG_TAIL_LINES` lines, the
whole log for almost every job), written behind like the other records, in ``":memory:"``
engines too; queued and running jobs are searched in their error and in-memory log tail.

:func:`to_frame` turns the result into a pandas DataFrame (pandas is the optional extra
``pbrain-widgets[history]``).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, PbrainWidgetsError
from .models import Job, JobStatus, LogEntry
from .store import _format_time

if TYPE_CHECKING:
    import pandas as pd

    from .catalog import Catalog

COLUMNS = (
    "job_id",
    "project_id",
    "project",
    "subject_id",
    "subject",
    "stage_id",
    "stage",
    "status",
    "attempt",
    "retry_of",
    "blocked_by",
    "priority",
    "queued_time",
    "start_time",
    "end_time",
    "queue_wait",
    "run_time",
    "peak_cpu_percent",
    "peak_memory_rss",
    "error",
)
"""The columns of :meth:`Engine.history`, in order. Times are UTC timestamps; ``queue_wait``
(queued to started) and ``run_time`` (started to ended, or to now while running) are seconds."""

_TOKEN = re.compile(r"[^\W_]+")  # like FTS5's unicode61 tokenizer: "_" separates


def require_pandas(what: str = "engine.history()") -> Any:
    try:
        import pandas
    except ImportError:
        raise PbrainWidgetsError(
            f"{what} returns a pandas DataFrame, and pandas is not installed; install it "
            "with `pip install 'pbrain-widgets[history]'` (or `pip install pandas`)"
        ) from None
    return pandas


def log_text(entries: Iterable[LogEntry]) -> str:
    """The messages of log entries, one per line (what the text index holds)."""
    return "\n".join(e.message for e in entries)


def text_tokens(text: str) -> list[str]:
    """The words of a search text (runs of letters and digits), lower case."""
    return [t.lower() for t in _TOKEN.findall(text)]


def fts_query(tokens: list[str]) -> str:
    """An FTS5 query matching jobs whose error or log holds every token (each quoted: no
    operator or syntax error can come from user text)."""
    return " ".join(f'"{t}"' for t in tokens)


def to_timestamp(value: object, name: str) -> float | None:
    """POSIX seconds from a number, a ``datetime`` (naive = local time), a pandas Timestamp or
    an ISO 8601 string; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be a time, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidArgumentError(f"{name} {value!r} is not an ISO 8601 time") from None
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    raise InvalidArgumentError(
        f"{name} must be POSIX seconds, a datetime or an ISO 8601 string, got {value!r}"
    )


def matches_text(job: Job, tokens: list[str], tail: Iterable[LogEntry]) -> bool:
    """For a job not in the index yet: every token is in its error or log tail."""
    haystack = f"{job.error or ''}\n{log_text(tail)}".lower()
    words = set(text_tokens(haystack))
    return all(t in words for t in tokens)


def select(
    jobs: Iterable[Job],
    *,
    project_id: str | None = None,
    subject_id: str | None = None,
    stage_id: str | None = None,
    statuses: set[JobStatus] | None = None,
    since: float | None = None,
    until: float | None = None,
    seqs: set[int] | None = None,
) -> list[Job]:
    """The jobs passing every given filter (in the order given)."""
    out = []
    for job in jobs:
        if (
            (project_id is None or job.project_id == project_id)
            and (subject_id is None or job.subject_id == subject_id)
            and (stage_id is None or job.stage_id == stage_id)
            and (statuses is None or job.status in statuses)
            and (since is None or job.queued_at >= since)
            and (until is None or job.queued_at < until)
            and (seqs is None or job.seq in seqs)
        ):
            out.append(job)
    return out


def rows(jobs: list[Job], catalog: Catalog, now: float) -> dict[str, list[Any]]:
    """The history columns of ``jobs`` (plain Python values; times in POSIX seconds)."""
    projects = {pid: p.name for pid, p in catalog.projects.items()}
    subjects = catalog.subjects
    labels: dict[tuple[str, str], str] = {}
    for pid, pipeline in catalog.pipelines.items():
        for stage in pipeline:
            labels[(pid, stage.id)] = stage.label
    cols: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for j in jobs:
        subject = subjects.get(j.subject_id)
        cols["job_id"].append(j.id)
        cols["project_id"].append(j.project_id)
        cols["project"].append(projects.get(j.project_id))
        cols["subject_id"].append(j.subject_id)
        cols["subject"].append(subject.name if subject is not None else None)
        cols["stage_id"].append(j.stage_id)
        cols["stage"].append(labels.get((j.project_id, j.stage_id), j.stage_id))
        cols["status"].append(j.status.value)
        cols["attempt"].append(j.attempt)
        cols["retry_of"].append(j.retry_of)
        cols["blocked_by"].append(j.blocked_by)
        cols["priority"].append(j.priority)
        cols["queued_time"].append(j.queued_at)
        cols["start_time"].append(j.start_time)
        cols["end_time"].append(j.end_time)
        cols["queue_wait"].append(j.start_time - j.queued_at if j.start_time is not None else None)
        end = j.end_time if j.end_time is not None else now
        cols["run_time"].append(end - j.start_time if j.start_time is not None else None)
        cols["peak_cpu_percent"].append(j.peak_cpu_percent)
        cols["peak_memory_rss"].append(j.peak_memory_rss)
        cols["error"].append(j.error)
    return cols


def to_frame(columns: Mapping[str, list[Any]]) -> pd.DataFrame:
    """A DataFrame of :func:`rows`, its time columns as UTC timestamps."""
    pd = require_pandas()
    frame = pd.DataFrame({name: columns[name] for name in COLUMNS}, columns=list(COLUMNS))
    for name in ("queued_time", "start_time", "end_time"):
        frame[name] = pd.to_datetime(frame[name].astype("float64"), unit="s", utc=True)
    for name in ("queue_wait", "run_time", "peak_cpu_percent"):
        frame[name] = frame[name].astype("float64")
    frame["peak_memory_rss"] = frame["peak_memory_rss"].astype("Int64")
    return frame


# -- log export ----------------------------------------------------------------------------

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_part(text: str, limit: int = 60) -> str:
    """``text`` reduced to letters, digits, ``.``, ``_`` and ``-`` (others become ``_``)."""
    part = _UNSAFE_FILE_CHARS.sub("_", text).strip("._-")[:limit]
    return part or "x"


def export_file_name(project: str, subject: str, stage_id: str, job: Job) -> str:
    """``<project>_<subject>_<stage>_attempt<N>_<job id>.log``, safe on every file system."""
    parts = [safe_file_part(project), safe_file_part(subject), safe_file_part(stage_id)]
    return f"{'_'.join(parts)}_attempt{job.attempt}_{job.id}.log"


def write_log_file(path: Path, entries: Iterable[LogEntry]) -> None:
    """A job's log as text: ``ISO time  LEVEL  message`` per line."""
    text = "".join(f"{_format_time(e.time)}  {e.level.value:<8}  {e.message}\n" for e in entries)
    path.write_text(text, encoding="utf-8", errors="backslashreplace")
