"""The engine's jobs indexed by project, subject, stage and status, so that a query costs what
it returns, not the number of jobs.

The engine keeps every job for the life of the engine (100,000 in a large cohort); a monitor's
feed asks for one subject's jobs or the running ones many times. :class:`JobIndex` holds the ids
of each project, subject, stage and status; the engine tells it of every new job
(:meth:`JobIndex.add`) and every status change (:meth:`JobIndex.moved`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .models import Job, JobStatus


class JobIndex:
    """Job ids by ``("project", id)``, ``("subject", id)``, ``("stage", id)`` and ``("status", s)``."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, object], dict[str, None]] = {}

    def add(self, job: Job) -> None:
        """Index a new job (or one loaded from the store)."""
        for key in (
            ("project", job.project_id),
            ("subject", job.subject_id),
            ("stage", job.stage_id),
            ("status", job.status),
        ):
            self._ids.setdefault(key, {})[job.id] = None

    def moved(self, job: Job, old: JobStatus) -> None:
        """The job's status changed from ``old`` to ``job.status``."""
        if old is not job.status:
            self._ids.get(("status", old), {}).pop(job.id, None)
            self._ids.setdefault(("status", job.status), {})[job.id] = None

    def latest_first(self, status: JobStatus) -> Iterator[str]:
        """Every job with ``status`` (every attempt), the latest to reach it first."""
        return reversed(self._ids.get(("status", status), {}))

    def count(self, kind: str, value: object) -> int:
        """How many jobs the index ``(kind, value)`` holds (``("project", id)``...)."""
        return len(self._ids.get((kind, value), ()))

    def candidates(
        self,
        project_id: str | None = None,
        subject_id: str | None = None,
        stage_id: str | None = None,
        statuses: Iterable[JobStatus] | None = None,
    ) -> list[str] | None:
        """The ids of the smallest index that the filters name (a superset of the matches, in
        no particular order); ``None`` when no filter is given (every job may match)."""
        options: list[list[dict[str, None]]] = []
        for kind, value in (("project", project_id), ("subject", subject_id), ("stage", stage_id)):
            if value is not None:
                options.append([self._ids.get((kind, value), {})])
        if statuses is not None:
            options.append([self._ids.get(("status", s), {}) for s in statuses])
        if not options:
            return None
        smallest = min(options, key=lambda sets: sum(len(s) for s in sets))
        return [job_id for ids in smallest for job_id in ids]
