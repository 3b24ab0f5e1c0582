"""Honest ETAs: from the run times this engine has seen, per stage and runner.

A job's expected run time is the median of the last :data:`WINDOW` completed runs of its stage
with the same runner (else of its stage with any runner). Its remaining time while it runs
blends what is left of that expectation with its own progress rate, weighting the progress rate
more as progress grows (``p`` = progress / 100)::

    remaining = (1 - p) * max(expected - elapsed, 0) + p * elapsed * (1 - p) / p

so a job at 20 % of a stage that usually takes 10 minutes, 30 s in, is not "almost done"
(the naive ``elapsed * (100 - p) / p`` would say 2 minutes). A job that has overrun its
expectation falls back to its progress rate. Without any completed run of the stage, the
progress rate alone is used (and nothing before the first progress report).

The whole-run ETA (:func:`makespan`) replays the queue: running jobs finish after their
remaining time, queued jobs start in the scheduler's order (priority, then queue order) once
their dependency jobs are done and a slot is free (``max_concurrent``). A stage never seen
completing counts the median of the other stages' expectations.
"""

from __future__ import annotations

import heapq
import statistics
from collections import deque
from collections.abc import Iterable, Mapping

from .models import Job, JobStatus

WINDOW = 50
"""Completed runs per stage (and runner) that the expectation is the median of."""


class DurationModel:
    """Run times of completed jobs, per (stage, runner) and per stage."""

    def __init__(self) -> None:
        self._by_runner: dict[tuple[str, str], deque[float]] = {}
        self._by_stage: dict[str, deque[float]] = {}
        self._medians: dict[object, float] = {}

    def add(self, stage_id: str, runner: str, seconds: float) -> None:
        key = (stage_id, runner)
        runs = self._by_runner.get(key)
        if runs is None:
            runs = self._by_runner[key] = deque(maxlen=WINDOW)
        runs.append(seconds)
        runs = self._by_stage.get(stage_id)
        if runs is None:
            runs = self._by_stage[stage_id] = deque(maxlen=WINDOW)
        runs.append(seconds)
        self._medians.pop(key, None)
        self._medians.pop(stage_id, None)

    def add_job(self, job: Job, runner: str) -> None:
        """Learn from a job that ended (only completed runs count)."""
        if job.status is JobStatus.COMPLETED and job.start_time is not None and job.end_time is not None:
            self.add(job.stage_id, runner, job.end_time - job.start_time)

    def _median(self, key: object, runs: deque[float] | None) -> float | None:
        if not runs:
            return None
        value = self._medians.get(key)
        if value is None:
            value = self._medians[key] = statistics.median(runs)
        return value

    def expected(self, stage_id: str, runner: str) -> float | None:
        """The expected run time of the stage with this runner; ``None`` if never seen."""
        value = self._median((stage_id, runner), self._by_runner.get((stage_id, runner)))
        if value is None:
            value = self._median(stage_id, self._by_stage.get(stage_id))
        return value

    def fallback(self) -> float | None:
        """For a stage never seen completing: the median of the known stages' expectations."""
        known = [m for sid in self._by_stage if (m := self._median(sid, self._by_stage[sid])) is not None]
        return statistics.median(known) if known else None


def job_remaining(expected: float | None, elapsed: float, progress: float) -> float | None:
    """Seconds left for a running job (see the module's formula); ``None`` when unknown."""
    p = min(max(progress, 0.0), 100.0) / 100.0
    by_rate = elapsed * (1 - p) / p if p > 0 else None
    if expected is None:
        return by_rate
    left = expected - elapsed
    if left <= 0:  # overran its expectation: its own pace is all there is
        return by_rate if by_rate is not None else 0.0
    if by_rate is None:
        return left
    return (1 - p) * left + p * by_rate


def makespan(
    running: Iterable[tuple[str, float]],
    queued: Iterable[tuple[str, tuple[int, int], float, tuple[str, ...]]],
    slots: int,
) -> float:
    """Seconds until every job is done.

    ``running``: ``(job id, remaining seconds)``; ``queued``: ``(job id, order key, expected
    seconds, ids of the jobs it waits for)`` where the smallest order key starts first;
    ``slots``: how many jobs may run at once. Dependencies on jobs not listed are done.
    """
    slots = max(1, slots)
    now = 0.0
    events: list[tuple[float, str]] = []
    for job_id, left in running:
        heapq.heappush(events, (max(left, 0.0), job_id))
    waiting: dict[str, int] = {}
    dependents: dict[str, list[str]] = {}
    info: dict[str, tuple[tuple[int, int], float]] = {}
    queued = list(queued)
    listed = {job_id for job_id, *_ in queued} | {job_id for _, job_id in events}
    ready: list[tuple[tuple[int, int], str]] = []
    for job_id, key, seconds, deps in queued:
        info[job_id] = (key, seconds)
        pending = [d for d in deps if d in listed]
        waiting[job_id] = len(pending)
        for d in pending:
            dependents.setdefault(d, []).append(job_id)
        if not pending:
            heapq.heappush(ready, (key, job_id))
    free = slots - len(events)
    while True:
        while free > 0 and ready:
            _, job_id = heapq.heappop(ready)
            heapq.heappush(events, (now + info[job_id][1], job_id))
            free -= 1
        if not events:
            return now
        now, job_id = heapq.heappop(events)
        free += 1
        for dep in dependents.get(job_id, ()):
            waiting[dep] -= 1
            if waiting[dep] == 0:
                heapq.heappush(ready, (info[dep][0], dep))


def run_eta(
    jobs: Iterable[Job],
    model: DurationModel,
    runner_of: Mapping[str, str],
    slots: int,
    now: float,
) -> float | None:
    """Seconds until the given active jobs are all done; ``None`` if nothing is known yet.

    ``runner_of`` maps a job id to its runner's name.
    """
    fallback = model.fallback()
    running: list[tuple[str, float]] = []
    queued: list[tuple[str, tuple[int, int], float, tuple[str, ...]]] = []
    for job in jobs:
        expected = model.expected(job.stage_id, runner_of.get(job.id, ""))
        if job.status is JobStatus.RUNNING:
            elapsed = now - (job.start_time or now)
            left = job_remaining(expected if expected is not None else fallback, elapsed, job.progress)
            if left is None:
                return None
            running.append((job.id, left))
        elif job.status is JobStatus.QUEUED:
            seconds = expected if expected is not None else fallback
            if seconds is None:
                return None
            queued.append((job.id, (-job.priority, job.seq), seconds, job.depends_on))
    return makespan(running, queued, slots)
