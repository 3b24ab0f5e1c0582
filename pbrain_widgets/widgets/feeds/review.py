"""The tiles of a cohort QC review: for each subject of a project, where one chosen output of one
stage is (its latest completed job, and the output's index in it)."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, Job, JobStatus, Output
from ..feed import Feed


class ReviewFeed(Feed):
    """Snapshot: ``{"project": name, "stage": {"id", "label"}, "label": output label, "labels": [labels seen],
    "tiles": [{"subject_id", "name", "job_id", "index"}]}`` (``job_id`` / ``index`` null where the
    subject has no completed job or no such output), in subject order.

    Patch: ``{"tiles": [changed tiles], "labels": [...]}`` when a job of the stage completes.
    """

    name = "review"

    def __init__(self, engine: Engine, project_id: str, stage_id: str, label: str | None) -> None:
        super().__init__(engine)
        self.project_id = engine.get_project(project_id).id
        self.stage = engine.pipeline(self.project_id)[stage_id]
        self.label = label
        self._labels: list[str] = []
        self._changed: set[str] = set()
        self.subscribe(engine.on_job_update(self._on_job))

    def _on_job(self, job: Job) -> None:
        if (
            job.project_id == self.project_id
            and job.stage_id == self.stage.id
            and job.status is JobStatus.COMPLETED
        ):
            self._changed.add(job.subject_id)
            self._wake()

    def _pick(self, outputs: list[Output]) -> int | None:
        """The index of the reviewed output: the one labelled ``label``, else the first picture."""
        for out in outputs:
            if out.label not in self._labels and out.kind.value in ("image", "map", "curve"):
                self._labels.append(out.label)
        for out in outputs:
            if (self.label is None and out.kind.value in ("image", "map")) or out.label == self.label:
                return out.index
        return None

    def _tile(self, subject_id: str) -> dict[str, Any]:
        subject = self.engine.get_subject(subject_id)
        done = self.engine.get_jobs(subject_id=subject_id, stage_id=self.stage.id, status=JobStatus.COMPLETED)
        job_id = done[0].id if done else None
        index = self._pick(self.engine.get_outputs(job_id)) if job_id else None
        return {"subject_id": subject.id, "name": subject.name, "job_id": job_id, "index": index}

    def snapshot(self) -> dict[str, Any]:
        tiles = [self._tile(s.id) for s in self.engine.get_subjects(self.project_id)]
        self._changed.clear()
        return {
            "project": self.engine.get_project(self.project_id).name,
            "stage": {"id": self.stage.id, "label": self.stage.label},
            "label": self.label,
            "labels": list(self._labels),
            "tiles": tiles,
        }

    def take_patch(self) -> dict[str, Any] | None:
        if not self._changed:
            return None
        tiles = [self._tile(s) for s in sorted(self._changed)]
        self._changed.clear()
        return {"tiles": tiles, "labels": list(self._labels)}
