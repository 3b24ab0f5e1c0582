"""Runs: the jobs queued by one API action, and the hook called when a run has finished.

``run_pipeline``, ``run_stage``, ``retry`` and ``retry_many`` each start a run with the jobs they
return that are still active. When the last of them ends, the listeners of
:meth:`Engine.on_run_finished` get one :class:`RunSummary` (on the engine's thread): a cascade
of 200 skipped jobs after one failure is one summary, whose ``root_failed_ids`` holds the one
failure.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from .events import Listeners
from .models import Job, JobStatus, _Record


def _duration_text(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


@dataclass
class RunSummary(_Record):
    """How a run ended: its jobs are all completed, failed or cancelled."""

    run_id: int
    action: str
    """The API call that queued it: ``run_pipeline``, ``run_stage``, ``retry``, ``retry_many``."""
    project_ids: list[str]
    job_ids: list[str]
    completed: int
    failed: int
    cancelled: int
    failed_ids: list[str] = field(default_factory=list)
    """Every failed job, skipped dependents included."""
    root_failed_ids: list[str] = field(default_factory=list)
    """The failed jobs that were not skipped because another failed: the problems to look at."""
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def duration(self) -> float:
        return self.finished_at - self.started_at

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled

    @property
    def message(self) -> str:
        """One line for a notification, e.g. ``run_pipeline: 30 jobs, 28 completed, 2 failed
        (1 root failure) in 1 min 2 s``."""
        parts = [f"{self.completed} completed"]
        if self.failed:
            roots = len(self.root_failed_ids)
            parts.append(f"{self.failed} failed ({roots} root failure{'s' if roots != 1 else ''})")
        if self.cancelled:
            parts.append(f"{self.cancelled} cancelled")
        total = len(self.job_ids)
        return (
            f"{self.action}: {total} job{'s' if total != 1 else ''}, {', '.join(parts)} "
            f"in {_duration_text(self.duration)}"
        )

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out.update(duration=self.duration, ok=self.ok, message=self.message)
        return out


class _Run:
    __slots__ = ("action", "id", "job_ids", "remaining", "sealed", "started_at")

    def __init__(self, run_id: int, action: str) -> None:
        self.id = run_id
        self.action = action
        self.job_ids: list[str] = []
        self.remaining: set[str] = set()
        self.sealed = False  # all its jobs are added: it may finish
        self.started_at = time.time()


class Runs:
    """The engine's unfinished runs and the listeners of finished ones."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._runs: dict[int, _Run] = {}
        self._by_job: dict[str, tuple[int, ...]] = {}  # tuples: nothing per job for the GC to walk
        self.listeners: Listeners[RunSummary] = Listeners("run finished")

    def start(self, action: str, jobs: Iterable[Job], all_jobs: dict[str, Job]) -> int | None:
        """A run of the active ``jobs`` (its id; ``None`` when none is active)."""
        run = self.open(action)
        self.add(run, jobs)
        return self.seal(run, all_jobs)

    def open(self, action: str) -> _Run:
        """A run whose jobs are added in parts (:meth:`add`, then :meth:`seal`), so that a plan
        of 100,000 jobs registers them subject by subject between its pauses."""
        run = _Run(next(self._ids), action)
        self._runs[run.id] = run
        return run

    def add(self, run: _Run, jobs: Iterable[Job]) -> None:
        """The active ones of ``jobs`` belong to ``run`` (a job already in it is not added twice)."""
        for job in jobs:
            runs_of_job = self._by_job.get(job.id, ())
            if job.status.is_active and run.id not in runs_of_job:
                run.job_ids.append(job.id)
                run.remaining.add(job.id)
                self._by_job[job.id] = (*runs_of_job, run.id)

    def seal(self, run: _Run, jobs: dict[str, Job]) -> int | None:
        """All of ``run``'s jobs are added: it finishes when they ended (now if they already
        did). Its id, or ``None`` when it has no job."""
        run.sealed = True
        if not run.job_ids:
            del self._runs[run.id]
            return None
        if not run.remaining:
            self._finish(run, jobs)
        return run.id

    def job_ended(self, job: Job, jobs: dict[str, Job]) -> None:
        run_ids = self._by_job.pop(job.id, None)
        if not run_ids:
            return
        for run_id in run_ids:
            run = self._runs.get(run_id)
            if run is None:
                continue
            run.remaining.discard(job.id)
            if run.sealed and not run.remaining:
                self._finish(run, jobs)

    def _finish(self, run: _Run, jobs: dict[str, Job]) -> None:
        del self._runs[run.id]
        if self.listeners:
            self.listeners.emit(self._summary(run, jobs))

    @staticmethod
    def _summary(run: _Run, jobs: dict[str, Job]) -> RunSummary:
        members = [jobs[j] for j in run.job_ids]
        failed = [j for j in members if j.status is JobStatus.FAILED]
        return RunSummary(
            run_id=run.id,
            action=run.action,
            project_ids=list(dict.fromkeys(j.project_id for j in members)),
            job_ids=list(run.job_ids),
            completed=sum(j.status is JobStatus.COMPLETED for j in members),
            failed=len(failed),
            cancelled=sum(j.status is JobStatus.CANCELLED for j in members),
            failed_ids=[j.id for j in failed],
            root_failed_ids=[j.id for j in failed if j.blocked_by is None],
            started_at=run.started_at,
            finished_at=time.time(),
        )
