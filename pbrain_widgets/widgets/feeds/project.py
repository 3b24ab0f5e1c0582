"""A project's subjects x stages grid, its active jobs per subject, and running the pipeline."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, Job, JobStatus, StatusUpdate, Subject
from ..feed import Action, Feed
from ..records import stage_rows, subject_row
from ..validation import Field

_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class ProjectFeed(Feed):
    """Snapshot: ``{"project": {"id", "name"}, "stages": [...], "subjects": [rows],
    "active": {subject_id: queued + running jobs}}``.

    Patch: ``{"subjects": [changed or new rows], "active": {subject_id: count}}`` (keys only
    when changed).
    """

    name = "project"

    def __init__(self, engine: Engine, project_id: str) -> None:
        super().__init__(engine)
        self.project_id = engine.get_project(project_id).id
        self._active: dict[str, str] = {
            j.id: j.subject_id for j in engine.get_jobs(project_id=self.project_id, status=_ACTIVE)
        }
        self._changed_subjects: set[str] = set()
        self._changed_active: set[str] = set()
        self.subscribe(engine.on_status_update(self._on_status))
        self.subscribe(engine.on_subject_update(self._on_subject))
        self.subscribe(engine.on_job_update(self._on_job))

    def _on_status(self, update: StatusUpdate) -> None:
        if update.project_id == self.project_id:
            self._changed_subjects.add(update.subject_id)
            self._wake()

    def _on_subject(self, subject: Subject) -> None:
        if subject.project_id == self.project_id:
            self._changed_subjects.add(subject.id)
            self._wake()

    def _on_job(self, job: Job) -> None:
        if job.project_id != self.project_id:
            return
        was_active = job.id in self._active
        if job.status in _ACTIVE and not was_active:
            self._active[job.id] = job.subject_id
        elif job.status not in _ACTIVE and was_active:
            del self._active[job.id]
        else:
            return
        self._changed_active.add(job.subject_id)
        self._wake()

    def _counts(self, subject_ids: set[str] | None = None) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(subject_ids or (), 0)
        for subject_id in self._active.values():
            if subject_ids is None or subject_id in subject_ids:
                counts[subject_id] = counts.get(subject_id, 0) + 1
        return counts

    def snapshot(self) -> dict[str, Any]:
        project = self.engine.get_project(self.project_id)
        return {
            "project": {"id": project.id, "name": project.name},
            "stages": stage_rows(self.engine.pipeline(project.id)),
            "subjects": [subject_row(s) for s in self.engine.get_subjects(project.id)],
            "active": self._counts(),
        }

    def take_patch(self) -> dict[str, Any] | None:
        patch: dict[str, Any] = {}
        if self._changed_subjects:
            patch["subjects"] = [subject_row(self.engine.get_subject(s)) for s in self._changed_subjects]
            self._changed_subjects = set()
        if self._changed_active:
            patch["active"] = self._counts(self._changed_active)
            self._changed_active = set()
        return patch or None

    def actions(self) -> dict[str, Action]:
        return {
            "run_pipeline": Action(
                {
                    "subject_ids": Field(list, required=False, nullable=True, max_len=64),
                    "stage_ids": Field(list, required=False, nullable=True, max_items=100, max_len=128),
                    "rerun_done": Field(bool, required=False, nullable=True),
                },
                self._run_pipeline,
            )
        }

    def _run_pipeline(self, payload: dict[str, Any]) -> dict[str, Any]:
        rerun_done = bool(payload["rerun_done"])
        jobs = self.engine.run_pipeline(
            self.project_id, payload["subject_ids"], payload["stage_ids"], rerun_done=rerun_done
        )
        return {"jobs": len(jobs)}
