"""One job's record, for a view that follows a single job."""

from __future__ import annotations

from ...engine import Engine, Job
from ..feed import Feed
from ..protocol import JobPatch, JobSnapshot
from ..records import RowChanges, job_row


class JobFeed(Feed):
    """Snapshot: :class:`~pbrain_widgets.widgets.protocol.JobSnapshot`; patch:
    :class:`~pbrain_widgets.widgets.protocol.JobPatch`, the fields that changed since the
    snapshot or the previous patch."""

    name = "job"

    def __init__(self, engine: Engine, job_id: str) -> None:
        super().__init__(engine)
        self.job_id = engine.get_job(job_id).id
        self._latest: Job | None = None
        self._rows = RowChanges()
        self.subscribe(engine.on_job_update(self._on_job))

    def _on_job(self, job: Job) -> None:
        if job.id == self.job_id:
            self._latest = job
            self._wake()

    def snapshot(self) -> JobSnapshot:
        job = self.engine.get_job(self.job_id)
        row = job_row(job)
        self._rows.sent([row])
        if self._latest is not None:
            self._rows.resend_full([self.job_id])
        stage = self.engine.pipeline(job.project_id)[job.stage_id]
        return {"job": row, "subject": self.engine.get_subject(job.subject_id).name, "stage": stage.label}

    def take_patch(self) -> JobPatch | None:
        if self._latest is None:
            return None
        rows, changes = self._rows.split([self._latest])
        self._latest = None
        if rows:
            return {"job": rows[0]}
        return {"changes": changes} if changes else None
