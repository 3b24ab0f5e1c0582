"""The compact, JSON-ready shapes in which engine records travel to the views."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..engine import Job, LogEntry, Pipeline, Subject
from .protocol import Column, FieldChanges, JobRow, JobTable, LogLine, StageRow, SubjectRow

JOB_FIELDS: tuple[str, ...] = tuple(JobRow.__annotations__)
"""The fields of a job row, in the order of :class:`~pbrain_widgets.widgets.protocol.JobRow`."""

_ROUNDED = {"progress": 1, "cpu_percent": 1, "queued_at": 3, "start_time": 3, "end_time": 3}


def job_row(job: Job) -> JobRow:
    """A job without its resource history (which views do not draw), numbers rounded to what a
    view shows; the ETA in whole seconds (a fraction would change with every progress report)."""
    row: dict[str, Any] = {name: getattr(job, name) for name in JOB_FIELDS}
    row["status"] = job.status.value
    for name, digits in _ROUNDED.items():
        if row[name] is not None:
            row[name] = round(row[name], digits)
    if job.eta_seconds is not None:
        row["eta_seconds"] = round(job.eta_seconds)
    return row  # type: ignore[return-value]  # built from JobRow's own keys


def column(values: Sequence[Any]) -> Column:
    """One table column, in its most compact form: ``{"fill": v}`` if every value is ``v``,
    ``{"values", "codes"}`` if there are at most half as many distinct values as rows, else the
    values (JSON scalars, so hashable)."""
    distinct: dict[Any, int] = {}
    for value in values:
        distinct.setdefault(value, len(distinct))
    if len(distinct) == 1:
        return {"fill": values[0]}
    if 2 * len(distinct) <= len(values):
        return {"values": list(distinct), "codes": [distinct[v] for v in values]}
    return list(values)


def job_table(rows: Sequence[JobRow]) -> JobTable:
    """Rows as a :class:`~pbrain_widgets.widgets.protocol.JobTable`: one column per field, so
    that field names travel once and repeated values (a project id, "queued", null) cost a
    code or nothing."""
    return {
        "n": len(rows),
        "columns": {name: column([row[name] for row in rows]) for name in JOB_FIELDS},  # type: ignore[literal-required]
    }


class RowChanges:
    """What views hold of each job, so that a patch carries only what changed.

    A job the views have no row of goes whole (in a :class:`JobTable`); a known job as the
    fields that changed, keyed by its ``seq`` (:data:`FieldChanges`). The rows a snapshot sent
    count as held (:meth:`sent`). A snapshot may be newer than the last patch for the jobs with
    changes not yet flushed; :meth:`resend_full` makes the next patch carry those whole again.
    """

    def __init__(self) -> None:
        self._sent: dict[str, JobRow] = {}
        self._full: set[str] = set()

    def sent(self, rows: Iterable[JobRow]) -> None:
        """Rows that a snapshot sent: views hold them."""
        for row in rows:
            self._sent[row["id"]] = row

    def resend_full(self, job_ids: Iterable[str]) -> None:
        self._full.update(job_ids)

    def keep_only(self, job_ids: set[str]) -> None:
        """Views hold these jobs' rows and no others now (a JobMonitor's views dropped the rows
        that left their windows): any other job goes whole next time."""
        self._sent = {job_id: row for job_id, row in self._sent.items() if job_id in job_ids}

    def split(self, jobs: Iterable[Job]) -> tuple[list[JobRow], FieldChanges]:
        """``(whole rows, changes)`` for these changed jobs."""
        rows: list[JobRow] = []
        changes: FieldChanges = {}
        for job in jobs:
            row = job_row(job)
            before = self._sent.get(job.id)
            self._sent[job.id] = row
            if before is None or job.id in self._full:
                rows.append(row)
                continue
            for name in JOB_FIELDS:
                value = row[name]  # type: ignore[literal-required]
                if before[name] != value:  # type: ignore[literal-required]
                    changes.setdefault(name, []).append((job.seq, value))
        self._full.clear()
        return rows, changes


def subject_row(subject: Subject) -> SubjectRow:
    return {
        "id": subject.id,
        "name": subject.name,
        "has_t1": subject.has_t1,
        "has_dce": subject.has_dce,
        "has_diffusion": subject.has_diffusion,
        "statuses": {stage: status.value for stage, status in subject.stage_statuses.items()},
    }


def stage_rows(pipeline: Pipeline) -> list[StageRow]:
    return [{"id": s.id, "label": s.label, "depends_on": list(s.depends_on)} for s in pipeline]


def log_line(entry: LogEntry) -> LogLine:
    """``[seq, time, level, message]``: a list, so that long logs cost little more than their text."""
    return (entry.seq, round(entry.time, 3), entry.level.value, entry.message)
