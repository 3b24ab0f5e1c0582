"""The compact, JSON-ready shapes in which engine records travel to the views."""

from __future__ import annotations

from typing import Any

from ..engine import Job, LogEntry, Pipeline, Subject

_JOB_FIELDS = (
    "id",
    "project_id",
    "subject_id",
    "stage_id",
    "status",
    "progress",
    "current_step",
    "queued_at",
    "start_time",
    "end_time",
    "error",
    "log_path",
    "eta_seconds",
    "attempt",
    "retry_of",
    "blocked_by",
    "cpu_percent",
    "memory_rss",
    "peak_memory_rss",
    "seq",
)


def job_row(job: Job) -> dict[str, Any]:
    """A job without its resource history (which views do not draw)."""
    row = {name: getattr(job, name) for name in _JOB_FIELDS}
    row["status"] = job.status.value
    return row


def subject_row(subject: Subject) -> dict[str, Any]:
    return {
        "id": subject.id,
        "name": subject.name,
        "has_t1": subject.has_t1,
        "has_dce": subject.has_dce,
        "has_diffusion": subject.has_diffusion,
        "statuses": {stage: status.value for stage, status in subject.stage_statuses.items()},
    }


def stage_rows(pipeline: Pipeline) -> list[dict[str, Any]]:
    return [{"id": s.id, "label": s.label, "depends_on": list(s.depends_on)} for s in pipeline]


def log_line(entry: LogEntry) -> list[Any]:
    """``[seq, time, level, message]``: a list, so that long logs cost little more than their text."""
    return [entry.seq, entry.time, entry.level.value, entry.message]
