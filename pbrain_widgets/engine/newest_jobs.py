"""The newest attempt of each subject x stage, by status, in the order each reached its status.

A monitor lists and counts the newest attempts (an attempt that a retry superseded is folded
under the retry) per status, of one project and one stage in focus, many times a second while a
cohort of 100,000 jobs runs. :class:`NewestJobs` keeps their ids per ``(project, stage,
status)`` (``None``: every project, every stage), so that a count costs nothing and a page of
the list costs its position, not a sort of every job.
"""

from __future__ import annotations

from collections.abc import Iterator

from .models import Job, JobStatus

Key = tuple[str | None, str | None, JobStatus]


class NewestJobs:
    """Ids of newest attempts by project, stage and status, oldest arrival in the status first."""

    def __init__(self) -> None:
        self._ids: dict[Key, dict[str, None]] = {}

    @staticmethod
    def _keys(job: Job, status: JobStatus) -> tuple[Key, ...]:
        return (
            (None, None, status),
            (None, job.stage_id, status),
            (job.project_id, None, status),
            (job.project_id, job.stage_id, status),
        )

    def add(self, job: Job, superseded: Job | None = None) -> None:
        """A new newest attempt; ``superseded``, the attempt it replaces, is no longer listed."""
        if superseded is not None:
            self._drop(superseded, superseded.status)
        for key in self._keys(job, job.status):
            self._ids.setdefault(key, {})[job.id] = None

    def moved(self, job: Job, old: JobStatus) -> None:
        """The job's status changed from ``old`` (a superseded attempt's status never does)."""
        if old is not job.status and self._drop(job, old):
            for key in self._keys(job, job.status):
                self._ids.setdefault(key, {})[job.id] = None

    def _drop(self, job: Job, status: JobStatus) -> bool:
        found = False
        for key in self._keys(job, status):
            ids = self._ids.get(key)
            if ids is not None and ids.pop(job.id, 0) is None:
                found = True
        return found

    def count(self, project_id: str | None, stage_id: str | None, status: JobStatus) -> int:
        return len(self._ids.get((project_id, stage_id, status), ()))

    def latest_first(self, project_id: str | None, stage_id: str | None, status: JobStatus) -> Iterator[str]:
        """The ids with ``status``, the latest to reach it first."""
        return reversed(self._ids.get((project_id, stage_id, status), {}))
