"""One subject's stages: their statuses and each stage's latest job; run a stage."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, Job, StageStatus, StatusUpdate
from ..feed import Action, Feed
from ..records import job_row, stage_rows, subject_row
from ..scope import Scope
from ..validation import BadRequest, Field
from .jobs import JOB_ID, retry_newest


class SubjectFeed(Feed):
    """Snapshot: ``{"subject": row | None, "stages": [...], "latest": {stage_id: job row}}``.

    Patch: ``{"subject": row, "latest": {stage_id: job row}}`` (keys only when changed), or
    ``{"reset": snapshot}`` when the feed switched to another subject (:meth:`switch`).
    """

    name = "subject"

    def __init__(self, engine: Engine, subject_id: str | None) -> None:
        super().__init__(engine)
        self.subject_id = engine.get_subject(subject_id).id if subject_id is not None else None
        self._subject_changed = False
        self._latest: dict[str, Job] = {}
        self._reset = False
        self.subscribe(engine.on_status_update(self._on_status))
        self.subscribe(engine.on_job_update(self._on_job))

    def switch(self, subject_id: str | None) -> None:
        """Follow another subject (``None``: none); views get the new state in one patch."""
        self.subject_id = self.engine.get_subject(subject_id).id if subject_id is not None else None
        self._reset = True
        self._wake()

    def _on_status(self, update: StatusUpdate) -> None:
        if update.subject_id == self.subject_id:
            self._subject_changed = True
            self._wake()

    def _on_job(self, job: Job) -> None:
        if job.subject_id == self.subject_id:
            known = self._latest.get(job.stage_id)
            if known is None or job.seq >= known.seq:
                self._latest[job.stage_id] = job
            self._wake()

    def snapshot(self) -> dict[str, Any]:
        if self.subject_id is None:
            return {"subject": None, "stages": [], "latest": {}}
        subject = self.engine.get_subject(self.subject_id)
        latest: dict[str, Any] = {}
        for job in self.engine.get_jobs(subject_id=subject.id):  # newest first
            latest.setdefault(job.stage_id, job_row(job))
        return {
            "subject": subject_row(subject),
            "stages": stage_rows(self.engine.pipeline(subject.project_id)),
            "latest": latest,
        }

    def take_patch(self) -> dict[str, Any] | None:
        if self._reset:
            self._reset = self._subject_changed = False
            self._latest = {}
            return {"reset": self.snapshot()}
        patch: dict[str, Any] = {}
        if self._subject_changed and self.subject_id is not None:
            patch["subject"] = subject_row(self.engine.get_subject(self.subject_id))
        if self._latest:
            patch["latest"] = {stage: job_row(job) for stage, job in self._latest.items()}
        self._subject_changed = False
        self._latest = {}
        return patch or None

    def actions(self) -> dict[str, Action]:
        return {
            "run_stage": Action({"stage_id": Field(str, max_len=128)}, self._run_stage),
            "cancel_job": Action(JOB_ID, lambda p: job_row(self.engine.cancel(self._job(p["job_id"]).id))),
            "retry_job": Action(JOB_ID, lambda p: job_row(retry_newest(self.engine, self._job(p["job_id"])))),
        }

    def _open_subject_id(self) -> str:
        if self.subject_id is None:
            raise BadRequest("no subject is open; open one first")
        return self.subject_id

    def _job(self, job_id: str) -> Job:
        return Scope(subject_id=self._open_subject_id()).check_job(self.engine, job_id)

    def _run_stage(self, payload: dict[str, Any]) -> dict[str, Any]:
        subject = self.engine.get_subject(self._open_subject_id())
        pipeline = self.engine.pipeline(subject.project_id)
        stage = pipeline[payload["stage_id"]]
        missing = [d for d in stage.depends_on if subject.stage_statuses.get(d) is not StageStatus.DONE]
        if missing:
            raise BadRequest(
                f"stage {stage.id!r} of {subject.name!r} cannot run yet: its dependencies "
                f"{missing} are not done"
            )
        job = self.engine.run_stage(
            subject.project_id, subject.id, stage.id, run_dependencies=False, rerun_done=True
        )
        return job_row(job)
