"""Every job of a project (or of the engine), the order queued jobs will start in, the runs
that finished; cancel, retry, cancel-all, batch actions, priority and log download."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ...engine import Engine, Job, JobStatus, Subject
from ...engine.batch import BatchResult
from ...engine.runs import RunSummary
from ...errors import InvalidTransitionError
from ..exports import logs_bundle
from ..feed import Feed, Handler
from ..protocol import (
    MAX_TABLE_ROWS,

    BatchDone,
    Cancelled,
    Download,
    JobRow,
    JobsPatch,
    JobsSnapshot,
    Prioritized,
    RunRow,
)
from ..records import RowChanges, job_row, job_table
from ..scope import Scope

QUEUE_SHOWN = 500
"""The first this many jobs of the start order travel to the views (a view shows "#n in queue")."""


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
    fields that change (a running job's progress, step and ETA), keyed by its ``seq``. A
    snapshot carries at most :data:`~pbrain_widgets.widgets.protocol.SNAPSHOT_TABLE_ROWS` whole
    rows, a patch :data:`~pbrain_widgets.widgets.protocol.MAX_TABLE_ROWS`: the rest of a long
    snapshot, or of a large ``run_pipeline``, follows in the next patches.

    ``queue``: the first :data:`QUEUE_SHOWN` queued jobs that are ready to start, in the order
    they will start (``Engine.queue_order``), whole again in a patch when it changed.
    ``finished`` (patches only): the runs of this scope that finished since the last patch.
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
        self._queue: list[str] = []
        self._finished: list[RunRow] = []
        self.subscribe(engine.on_job_update(self._on_job))
        self.subscribe(engine.on_subject_update(self._on_subject))
        self.subscribe(engine.on_run_finished(self._on_run))

    def _on_job(self, job: Job) -> None:
        if self.scope.covers(job.project_id, job.subject_id, job.id):
            self._changed[job.id] = job
            self._wake()

    def _on_subject(self, subject: Subject) -> None:
        if self.scope.covers(subject.project_id, subject.id):
            self._new_subjects[subject.id] = subject.name
            self._wake()

    def _on_run(self, summary: RunSummary) -> None:
        if self.project_id is None or self.project_id in summary.project_ids:
            self._finished.append(run_row(summary))
            self._wake()

    def _start_order(self) -> list[str]:
        return self.engine.queue_order(self.project_id, limit=QUEUE_SHOWN)

    def snapshot(self) -> JobsSnapshot:
        self._queue = self._start_order()
        subjects: dict[str, str] = {}
        stages: dict[str, str] = {}
        for project_id in self.scope.project_ids(self.engine):
            subjects.update(self.engine.subject_names(project_id))
            stages.update((s.id, s.label) for s in self.engine.pipeline(project_id))
        # what a view shows first comes first: the running jobs, then the rest newest first; only
        # the first message's worth are copied (ids alone for the rest: 100,000 copies would hold
        # the engine's loop for half a second)
        ids = self.engine.get_job_ids(project_id=self.project_id)
        running = self.engine.get_job_ids(project_id=self.project_id, status=JobStatus.RUNNING)
        ordered = dict.fromkeys(running) | dict.fromkeys(ids)
        first = list(itertools.islice(ordered, MAX_TABLE_ROWS))
        rows = [job_row(self.engine.get_job(job_id)) for job_id in first]
        self._rows.hold_only(rows)
        self._rows.resend_full(self._changed)
        for job_id in first:
            del ordered[job_id]
        self._unsent = ordered
        if self._unsent:
            self._wake()
        return {
            "jobs": job_table(rows),
            "total": len(ids),
            "subjects": subjects,
            "stages": stages,
            "queue": self._queue,
        }

    def take_patch(self) -> JobsPatch | None:
        patch: JobsPatch = {}
        if self._changed or self._unsent:
            changed = list(self._changed.values())
            self._changed = {}
            # the start order moves when a job is queued, leaves the order shown or ends (its
            # dependents may become ready); a running job's progress leaves it alone
            shown = set(self._queue)
            moved = any(j.status is not JobStatus.RUNNING or j.id in shown for j in changed)
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
            queue = self._start_order() if moved else self._queue
            if queue != self._queue:
                patch["queue"] = self._queue = queue
            if self._unsent:
                self._wake()
        if self._new_subjects:
            patch["subjects"] = self._new_subjects
            self._new_subjects = {}
        if self._finished:
            patch["finished"] = self._finished
            self._finished = []
        return patch or None

    def actions(self) -> dict[str, Handler]:
        return {
            **job_actions(self.engine, lambda: self.scope),
            "cancel_all": self._cancel_all,
            "cancel_many": lambda p: batch_reply(self.engine.cancel_many(self._job_ids(p))),
            "retry_many": lambda p: batch_reply(self.engine.retry_many(self._job_ids(p))),
            "prioritize": self._prioritize,
            "export_logs": self._export_logs,
        }

    def _job_ids(self, payload: dict[str, Any]) -> list[str]:
        """The payload's job ids, each in this widget's scope (else the request is refused)."""
        return [self.scope.check_job(self.engine, job_id).id for job_id in dict.fromkeys(payload["job_ids"])]

    def _prioritize(self, payload: dict[str, Any]) -> Prioritized:
        """Raise or lower queued jobs' priority by one, or put them above every queued job of the
        engine (``next``: they start next, in their queue order)."""
        move = payload["move"]
        jobs = [self.scope.check_job(self.engine, job_id) for job_id in dict.fromkeys(payload["job_ids"])]
        queued = [j for j in jobs if j.status is JobStatus.QUEUED]
        top = None
        if move == "next":
            others = self.engine.get_jobs(status=JobStatus.QUEUED)
            top = max((j.priority for j in others), default=0) + 1
        for job in queued:
            priority = top if top is not None else job.priority + (1 if move == "raise" else -1)
            self.engine.set_priority(job.id, priority)
        return {"changed": len(queued), "skipped": len(jobs) - len(queued)}

    def _export_logs(self, payload: dict[str, Any]) -> Download:
        return logs_bundle(self.engine, self._job_ids(payload), "jobs")

    def _cancel_all(self, _payload: dict[str, Any]) -> Cancelled:
        return {"cancelled": len(self.engine.cancel_all(self.project_id))}


def batch_reply(result: BatchResult) -> BatchDone:
    """What a view says after a batch action: how many were done, how many skipped and the
    first few distinct reasons (a skipped list may be as long as the selection)."""
    reasons = list(dict.fromkeys(result.skipped.values()))[:3]
    return {"done": len(result.done), "skipped": len(result.skipped), "reasons": reasons}


def run_row(summary: RunSummary) -> RunRow:
    """A finished run as a view announces it (ids of the first root failures only)."""
    return {
        "run_id": summary.run_id,
        "action": summary.action,
        "message": summary.message,
        "ok": summary.ok,
        "jobs": len(summary.job_ids),
        "completed": summary.completed,
        "failed": summary.failed,
        "cancelled": summary.cancelled,
        "root_failed_ids": summary.root_failed_ids[:20],
    }
