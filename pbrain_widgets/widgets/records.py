"""The compact, JSON-ready shapes in which engine records travel to the views."""

from __future__ import annotations

from collections.abc import Iterable
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
    "priority",
    "retry_of",
    "blocked_by",
    "cpu_percent",
    "memory_rss",
    "peak_memory_rss",
    "seq",
)


_ROUNDED = {"progress": 1, "eta_seconds": 1, "cpu_percent": 1, "queued_at": 3, "start_time": 3, "end_time": 3}


def job_row(job: Job) -> dict[str, Any]:
    """A job without its resource history (which views do not draw), numbers rounded to what a
    view shows."""
    row = {name: getattr(job, name) for name in _JOB_FIELDS}
    row["status"] = job.status.value
    for name, digits in _ROUNDED.items():
        if row[name] is not None:
            row[name] = round(row[name], digits)
    return row


class RowChanges:
    """Sends each job's full row once, then only the fields that changed since the last patch.

    A view that takes a snapshot between two patches may hold a newer row than the last patch
    described; :meth:`resend_full` makes the next patch carry those jobs' full rows again.
    """

    def __init__(self) -> None:
        self._sent: dict[str, dict[str, Any]] = {}
        self._full: set[str] = set()

    def resend_full(self, job_ids: Iterable[str]) -> None:
        self._full.update(job_ids)

    def split(self, jobs: Iterable[Job]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(full rows, changes)`` for the changed jobs; a change is ``{"id", <field>: value...}``."""
        rows: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for job in jobs:
            row = job_row(job)
            before = self._sent.get(job.id)
            self._sent[job.id] = row
            if before is None or job.id in self._full:
                rows.append(row)
                continue
            change = {k: v for k, v in row.items() if before[k] != v}
            if change:
                change["id"] = job.id
                changes.append(change)
        self._full.clear()
        return rows, changes


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
    return [entry.seq, round(entry.time, 3), entry.level.value, entry.message]
