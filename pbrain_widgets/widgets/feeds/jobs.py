"""Every job of a project (or of the engine), with cancel, retry and cancel-all."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, Job, Subject
from ...errors import InvalidTransitionError
from ..feed import Action, Feed
from ..records import RowChanges, job_row
from ..scope import Scope
from ..validation import Field

JOB_ID = {"job_id": Field(str, max_len=64)}


def retry_newest(engine: Engine, job: Job) -> Job:
    """Retry ``job`` if it is the newest attempt of its subject x stage. An attempt that a newer
    one superseded is refused in words that say which attempt to look at instead."""
    newest = engine.get_jobs(subject_id=job.subject_id, stage_id=job.stage_id)[0]
    if newest.id != job.id:
        subject = engine.get_subject(job.subject_id).name
        raise InvalidTransitionError(
            f"attempt {job.attempt} of {job.stage_id} for {subject} was superseded: attempt "
            f"{newest.attempt} ({newest.id}) is {newest.status.value}"
        )
    return engine.retry(job.id)


class JobsFeed(Feed):
    """Snapshot: ``{"jobs": [row, ...] (newest first), "subjects": {id: name}, "stages": {id: label}}``.

    Patch: ``{"jobs": [new rows], "changes": [{"id", <changed field>: value, ...}],
    "subjects": {new id: name}}`` (keys only when non-empty): a job's full row goes once, then
    only its fields that changed (a running job's progress, step and ETA).
    """

    name = "jobs"

    def __init__(self, engine: Engine, project_id: str | None = None) -> None:
        super().__init__(engine)
        self.scope = Scope.of_project(engine, project_id) if project_id is not None else Scope()
        self.project_id = project_id
        self._changed: dict[str, Job] = {}
        self._new_subjects: dict[str, str] = {}
        self._rows = RowChanges()
        self.subscribe(engine.on_job_update(self._on_job))
        self.subscribe(engine.on_subject_update(self._on_subject))

    def _on_job(self, job: Job) -> None:
        if self.scope.covers(job.project_id, job.subject_id, job.id):
            self._changed[job.id] = job
            self._wake()

    def _on_subject(self, subject: Subject) -> None:
        if self.scope.covers(subject.project_id, subject.id):
            self._new_subjects[subject.id] = subject.name
            self._wake()

    def snapshot(self) -> dict[str, Any]:
        self._rows.resend_full(self._changed)
        subjects: dict[str, str] = {}
        stages: dict[str, str] = {}
        for project_id in self.scope.project_ids(self.engine):
            subjects.update((s.id, s.name) for s in self.engine.get_subjects(project_id))
            stages.update((s.id, s.label) for s in self.engine.pipeline(project_id))
        jobs = self.engine.get_jobs(project_id=self.project_id)
        return {"jobs": [job_row(j) for j in jobs], "subjects": subjects, "stages": stages}

    def take_patch(self) -> dict[str, Any] | None:
        patch: dict[str, Any] = {}
        if self._changed:
            rows, changes = self._rows.split(self._changed.values())
            self._changed = {}
            if rows:
                patch["jobs"] = rows
            if changes:
                patch["changes"] = changes
        if self._new_subjects:
            patch["subjects"] = self._new_subjects
            self._new_subjects = {}
        return patch or None

    def _job_id(self, payload: dict[str, Any]) -> str:
        return self.scope.check_job(self.engine, payload["job_id"]).id

    def actions(self) -> dict[str, Action]:
        return {
            "cancel": Action(JOB_ID, lambda p: job_row(self.engine.cancel(self._job_id(p)))),
            "retry": Action(JOB_ID, self._retry),
            "cancel_all": Action({}, self._cancel_all),
        }

    def _retry(self, payload: dict[str, Any]) -> dict[str, Any]:
        job = self.scope.check_job(self.engine, payload["job_id"])
        return job_row(retry_newest(self.engine, job))

    def _cancel_all(self, _payload: dict[str, Any]) -> dict[str, Any]:
        return {"cancelled": len(self.engine.cancel_all(self.project_id))}
