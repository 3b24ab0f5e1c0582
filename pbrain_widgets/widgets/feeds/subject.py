"""One subject's stages: their statuses and each stage's latest job; run a stage."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, Job, StageStatus, StatusUpdate
from ..feed import Feed, Handler
from ..protocol import JobRow, SubjectPatch, SubjectSnapshot
from ..records import RowChanges, job_row, stage_rows, subject_row
from ..scope import Scope
from ..validation import BadRequest
from .jobs import job_actions


class SubjectFeed(Feed):
    """Snapshot: :class:`~pbrain_widgets.widgets.protocol.SubjectSnapshot`; patch:
    :class:`~pbrain_widgets.widgets.protocol.SubjectPatch`: a stage's newest job whole the
    first time, then only its fields that changed; ``reset`` (a whole snapshot) when the feed
    switched to another subject (:meth:`switch`).
    """

    name = "subject"

    def __init__(self, engine: Engine, subject_id: str | None) -> None:
        super().__init__(engine)
        self.subject_id = engine.get_subject(subject_id).id if subject_id is not None else None
        self._subject_changed = False
        self._latest: dict[str, Job] = {}
        self._rows = RowChanges()
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

    def snapshot(self) -> SubjectSnapshot:
        if self.subject_id is None:
            return {"subject": None, "stages": [], "latest": {}}
        subject = self.engine.get_subject(self.subject_id)
        latest: dict[str, JobRow] = {}
        for job in self.engine.get_jobs(subject_id=subject.id):  # newest first
            if job.stage_id not in latest:
                latest[job.stage_id] = job_row(job)
        self._rows.sent(latest.values())
        self._rows.resend_full(job.id for job in self._latest.values())
        return {
            "subject": subject_row(subject),
            "stages": stage_rows(self.engine.pipeline(subject.project_id)),
            "latest": latest,
        }

    def take_patch(self) -> SubjectPatch | None:
        if self._reset:
            self._reset = self._subject_changed = False
            self._latest = {}
            return {"reset": self.snapshot()}
        patch: SubjectPatch = {}
        if self._subject_changed and self.subject_id is not None:
            patch["subject"] = subject_row(self.engine.get_subject(self.subject_id))
        if self._latest:
            rows, changes = self._rows.split(self._latest.values())
            if rows:
                patch["latest"] = {row["stage_id"]: row for row in rows}
            if changes:
                patch["changes"] = changes
        self._subject_changed = False
        self._latest = {}
        return patch or None

    def actions(self) -> dict[str, Handler]:
        job = job_actions(self.engine, lambda: Scope(subject_id=self._open_subject_id()))
        return {"run_stage": self._run_stage, "cancel": job["cancel"], "retry": job["retry"]}

    def _open_subject_id(self) -> str:
        if self.subject_id is None:
            raise BadRequest("no subject is open; open one first")
        return self.subject_id

    def _run_stage(self, payload: dict[str, Any]) -> JobRow:
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
