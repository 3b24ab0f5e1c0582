"""Analytics over the job history: per-stage statistics and failures grouped by root cause.

Definitions (what the tests compute by hand):

- a stage's ``runs`` are its jobs that started and ended completed or failed (a job skipped
  because a dependency failed never started and is not a run; a cancelled job is not counted);
  ``success_rate`` = completed runs / runs;
- ``median_run_time`` and ``p90_run_time`` are over the completed runs (start to end);
- ``median_queue_wait`` and ``p90_queue_wait`` are over the runs (queued to started);
- percentiles interpolate linearly between the sorted values (numpy's default): the q-th of
  ``n`` values sits at position ``q * (n - 1)``.

Failure groups: each unresolved failure (the newest job of its subject and stage, failed) is
either a root failure (``blocked_by`` is ``None``) or skipped because of one. Root failures of one
stage whose errors read the same once numbers, paths, ids and quoted text are normalised
(:func:`error_signature`) form one group, and the jobs skipped because of them join it: one broken
stage is one problem, however many subjects and downstream stages it took down.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .models import Job, JobStatus, _Record
from .pipeline import Pipeline

_NORMALISE = (
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/:'\"(),]+)+[\\/]?"), "<path>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<text>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{8,}\b"), "<id>"),
    (re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def error_signature(error: str | None) -> str:
    """An error message with what varies between subjects replaced: paths by ``<path>``, quoted
    text by ``<text>``, hexadecimal ids by ``<id>``, numbers by ``<n>``; its first line only."""
    text = (error or "").strip().splitlines()[0] if error and error.strip() else ""
    for pattern, repl in _NORMALISE:
        text = pattern.sub(repl, text)
    return text.strip()


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) with linear interpolation; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class StageStats(_Record):
    """How one stage has been doing (see the module's definitions)."""

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


def stage_stats(jobs: Iterable[Job], pipelines: Mapping[str, Pipeline]) -> list[StageStats]:
    """Per-stage statistics of ``jobs``, in pipeline order (stages without jobs included)."""
    order: dict[str, str] = {}
    for pipeline in pipelines.values():
        for stage in pipeline:
            order.setdefault(stage.id, stage.label)
    run_times: dict[str, list[float]] = {}
    waits: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    for job in jobs:
        if job.start_time is None or job.end_time is None:
            continue
        if job.status is JobStatus.COMPLETED:
            run_times.setdefault(job.stage_id, []).append(job.end_time - job.start_time)
        elif job.status is not JobStatus.FAILED:
            continue
        c = counts.setdefault(job.stage_id, [0, 0])
        c[0 if job.status is JobStatus.COMPLETED else 1] += 1
        waits.setdefault(job.stage_id, []).append(job.start_time - job.queued_at)
        order.setdefault(job.stage_id, job.stage_id)
    out = []
    for sid, label in order.items():
        done, failed = counts.get(sid, (0, 0))
        runs = done + failed
        rt = run_times.get(sid, [])
        qw = waits.get(sid, [])
        out.append(
            StageStats(
                stage_id=sid,
                label=label,
                runs=runs,
                completed=done,
                failed=failed,
                success_rate=done / runs if runs else None,
                median_run_time=percentile(rt, 0.5),
                p90_run_time=percentile(rt, 0.9),
                median_queue_wait=percentile(qw, 0.5),
                p90_queue_wait=percentile(qw, 0.9),
            )
        )
    return out


@dataclass
class FailureGroup(_Record):
    """One problem: root failures of one stage with the same error signature, and every job
    they took down."""

    stage_id: str
    signature: str
    """The normalised error (:func:`error_signature`)."""
    example_error: str
    """The error of the newest root failure, as it was."""
    root_job_ids: list[str] = field(default_factory=list)
    """The failed jobs themselves, newest first."""
    blocked_job_ids: list[str] = field(default_factory=list)
    """Jobs skipped because one of them failed (dependency failed)."""
    subject_ids: list[str] = field(default_factory=list)
    """Subjects with a root failure in this group."""

    @property
    def count(self) -> int:
        """Jobs this problem accounts for (roots and skipped)."""
        return len(self.root_job_ids) + len(self.blocked_job_ids)


def failure_groups(jobs: Mapping[str, Job], latest: Mapping[tuple[str, str], str]) -> list[FailureGroup]:
    """Unresolved failures among ``jobs`` grouped by root cause, the largest group first.

    ``latest`` maps ``(subject_id, stage_id)`` to the newest job id of that stage (a failure
    that a newer job replaced is resolved, or being retried).
    """
    failed = [
        j
        for j in jobs.values()
        if j.status is JobStatus.FAILED and latest.get((j.subject_id, j.stage_id)) == j.id
    ]
    failed.sort(key=lambda j: -j.seq)
    groups: dict[tuple[str, str], FailureGroup] = {}
    root_group: dict[str, FailureGroup] = {}

    def group_of(root: Job) -> FailureGroup:
        group = root_group.get(root.id)
        if group is None:
            key = (root.stage_id, error_signature(root.error))
            group = groups.get(key)
            if group is None:
                group = groups[key] = FailureGroup(root.stage_id, key[1], root.error or "")
            root_group[root.id] = group
        return group

    for job in failed:
        if job.blocked_by is None:
            group = group_of(job)
            group.root_job_ids.append(job.id)
            if job.subject_id not in group.subject_ids:
                group.subject_ids.append(job.subject_id)
    for job in failed:
        if job.blocked_by is None:
            continue
        root = jobs.get(job.blocked_by)
        if root is None or root.status is not JobStatus.FAILED:
            group = group_of(job)  # its root is unknown (or not failed): a problem of its own
            group.root_job_ids.append(job.id)
            continue
        group_of(root).blocked_job_ids.append(job.id)
    return sorted(groups.values(), key=lambda g: (-g.count, g.stage_id, g.signature))
