"""Every job of a project (or of the engine), with cancel, retry and cancel-all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...engine import Engine, Job, JobStatus, Subject
from ...errors import InvalidTransitionError
from ..feed import Feed, Handler
from ..protocol import MAX_TABLE_ROWS, Cancelled, JobRow, JobsPatch, JobsSnapshot
from ..records import RowChanges, job_row, job_table
from ..scope import Scope


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


def job_actions(engine: Engine, scope: Callable[[], Scope]) -> dict[str, Handler]:
    """``cancel`` and ``retry`` of one job of the scope ``scope()`` returns at the time of the
    request (shared by every feed that offers them)."""

    def cancel(payload: dict[str, Any]) -> JobRow:
        return job_row(engine.cancel(scope().check_job(engine, payload["job_id"]).id))

    def retry(payload: dict[str, Any]) -> JobRow:
        return job_row(retry_newest(engine, scope().check_job(engine, payload["job_id"])))

    return {"cancel": cancel, "retry": retry}


class JobsFeed(Feed):
    """Snapshot: :class:`~pbrain_widgets.widgets.protocol.JobsSnapshot` (every job as a table,
    newest first); patch: :class:`~pbrain_widgets.widgets.protocol.JobsPatch`. A job's whole
    row goes once (in the snapshot or the first patch after it was created), then only the
    fields that change (a running job's progress, step and ETA), keyed by its ``seq``. No
    message carries more than :data:`~pbrain_widgets.widgets.protocol.MAX_TABLE_ROWS` whole
    rows: the rest of a long snapshot, or of a large ``run_pipeline``, follows in the next patches.
    """

    name = "jobs"

    def __init__(self, engine: Engine, project_id: str | None = None) -> None:
        super().__init__(engine)
        self.scope = Scope.of_project(engine, project_id) if project_id is not None else Scope()
        self.project_id = project_id
        self._changed: dict[str, Job] = {}
        self._new_subjects: dict[str, str] = {}
        self._rows = RowChanges()
        # jobs views may not hold yet, to send whole in the next patches (in this order)
        self._unsent: dict[str, None] = {}
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

    def snapshot(self) -> JobsSnapshot:
        subjects: dict[str, str] = {}
        stages: dict[str, str] = {}
        for project_id in self.scope.project_ids(self.engine):
            subjects.update((s.id, s.name) for s in self.engine.get_subjects(project_id))
            stages.update((s.id, s.label) for s in self.engine.pipeline(project_id))
        jobs = self.engine.get_jobs(project_id=self.project_id)
        # what a view shows first comes first: the running jobs, then the rest newest first
        ordered = [j for j in jobs if j.status is JobStatus.RUNNING]
        ordered += [j for j in jobs if j.status is not JobStatus.RUNNING]
        rows = [job_row(j) for j in ordered[:MAX_TABLE_ROWS]]
        self._rows.sent(rows)
        self._rows.resend_full(self._changed)
        self._unsent = dict.fromkeys(j.id for j in ordered[MAX_TABLE_ROWS:])
        self._rows.forget(self._unsent)  # a view that took this snapshot has not got them
        if self._unsent:
            self._wake()
        return {"jobs": job_table(rows), "total": len(jobs), "subjects": subjects, "stages": stages}

    def take_patch(self) -> JobsPatch | None:
        patch: JobsPatch = {}
        if self._changed or self._unsent:
            changed = list(self._changed.values())
            self._changed = {}
            held = [job for job in changed if self._rows.holds(job.id)]
            new = [job for job in changed if not self._rows.holds(job.id)]
            for job in new[MAX_TABLE_ROWS:]:  # too many for one message: the next patches
                self._unsent[job.id] = None
            new = new[:MAX_TABLE_ROWS]
            for job in new:
                self._unsent.pop(job.id, None)
            while self._unsent and len(new) < MAX_TABLE_ROWS:
                job_id = next(iter(self._unsent))
                del self._unsent[job_id]
                new.append(self.engine.get_job(job_id))
            rows, changes = self._rows.split(held + new)
            if rows:
                patch["jobs"] = job_table(rows)
            if changes:
                patch["changes"] = changes
            if self._unsent:
                self._wake()
        if self._new_subjects:
            patch["subjects"] = self._new_subjects
            self._new_subjects = {}
        return patch or None

    def actions(self) -> dict[str, Handler]:
        return {**job_actions(self.engine, lambda: self.scope), "cancel_all": self._cancel_all}

    def _cancel_all(self, _payload: dict[str, Any]) -> Cancelled:
        return {"cancelled": len(self.engine.cancel_all(self.project_id))}
