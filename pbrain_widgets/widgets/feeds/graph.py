"""A project's stage DAG with the cohort's live counts per stage, for the PipelineGraph."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...engine import Engine, Job, JobStatus, Pipeline, StageStatus, StatusUpdate, Subject
from ..feed import Feed
from ..records import stage_rows

COUNT_KEYS = ("done", "stale", "running", "queued", "waiting", "failed", "not_run")
"""The count of each stage node, in the order a node stacks them."""


def stage_counts(pipeline: Pipeline, subjects: Iterable[Subject]) -> dict[str, dict[str, int]]:
    """Per stage, how many subjects have it in each status (:data:`COUNT_KEYS`; ``stale`` is the
    engine's: done, but an upstream stage completed again since)."""
    counts = {stage.id: dict.fromkeys(COUNT_KEYS, 0) for stage in pipeline}
    for subject in subjects:
        for stage in pipeline:
            counts[stage.id][subject.stage_statuses.get(stage.id, StageStatus.NOT_RUN).value] += 1
    return counts


def blocked_edges(pipeline: Pipeline, subjects: Iterable[Subject]) -> list[list[str]]:
    """``[from, to]`` for every dependency where, for some subject, ``from`` failed and ``to``
    is not done: the failure blocks it. In pipeline order."""
    blocked: set[tuple[str, str]] = set()
    for subject in subjects:
        statuses = subject.stage_statuses
        for stage in pipeline:
            if statuses.get(stage.id) is StageStatus.DONE:
                continue
            for dep in stage.depends_on:
                if statuses.get(dep) is StageStatus.FAILED:
                    blocked.add((dep, stage.id))
    return [[dep, stage.id] for stage in pipeline for dep in stage.depends_on if (dep, stage.id) in blocked]


class GraphFeed(Feed):
    """Snapshot: ``{"project": {"id", "name"}, "stages": [{id, label, depends_on}],
    "counts": {stage_id: {<COUNT_KEYS>: n}}, "median": {stage_id: seconds | None} (the median
    run time of the stage's completed runs, from :meth:`Engine.stage_stats`),
    "blocked": [[from, to], ...], "subjects": n}``.

    Patch: the same keys except ``project`` and ``stages``, each only when it changed, and
    ``counts`` / ``median`` with only the stages that changed (after a snapshot, the next patch
    carries them all). Counts are recomputed once per flush from the subjects' statuses, so a
    burst of changes costs one pass.
    """

    name = "graph"

    def __init__(self, engine: Engine, project_id: str) -> None:
        super().__init__(engine)
        self.project_id = engine.get_project(project_id).id
        self.pipeline = engine.pipeline(self.project_id)
        self._medians: dict[str, float | None] | None = self._stage_medians()
        self._dirty = False
        self._resend = False
        self._sent = self._state()
        self.subscribe(engine.on_status_update(self._on_status))
        self.subscribe(engine.on_subject_update(self._on_subject))
        self.subscribe(engine.on_job_update(self._on_job))

    def _stage_medians(self) -> dict[str, float | None]:
        stats = {s.stage_id: s.median_run_time for s in self.engine.stage_stats(self.project_id)}
        medians: dict[str, float | None] = {}
        for stage in self.pipeline:
            median = stats.get(stage.id)
            medians[stage.id] = None if median is None else round(median, 3)
        return medians

    def _touch(self) -> None:
        self._dirty = True
        self._wake()

    def _on_status(self, update: StatusUpdate) -> None:
        if update.project_id == self.project_id:
            self._touch()

    def _on_subject(self, subject: Subject) -> None:
        if subject.project_id == self.project_id:
            self._touch()

    def _on_job(self, job: Job) -> None:
        # a completed job changes its stage's median; the others are counted from statuses
        if job.project_id == self.project_id and job.status is JobStatus.COMPLETED:
            self._medians = None
            self._touch()

    def _state(self) -> dict[str, Any]:
        if self._medians is None:
            self._medians = self._stage_medians()
        subjects = self.engine.get_subjects(self.project_id)
        return {
            "counts": stage_counts(self.pipeline, subjects),
            "median": self._medians,
            "blocked": blocked_edges(self.pipeline, subjects),
            "subjects": len(subjects),
        }

    def snapshot(self) -> dict[str, Any]:
        # a snapshot may be newer than the last patch: the next patch then carries everything,
        # so that a view holding the snapshot misses no change that returns to an older value
        self._resend = True
        project = self.engine.get_project(self.project_id)
        return {
            "project": {"id": project.id, "name": project.name},
            "stages": stage_rows(self.pipeline),
            **self._state(),
        }

    def take_patch(self) -> dict[str, Any] | None:
        if not self._dirty:
            return None
        self._dirty = False
        state = self._state()
        sent: dict[str, Any] = {"counts": {}, "median": {}} if self._resend else self._sent
        self._resend = False
        patch: dict[str, Any] = {}
        for key in ("counts", "median"):
            changed = {k: v for k, v in state[key].items() if k not in sent[key] or sent[key][k] != v}
            if changed:
                patch[key] = changed
        for key in ("blocked", "subjects"):
            if key not in sent or state[key] != sent[key]:
                patch[key] = state[key]
        self._sent = state
        return patch or None
