"""Every job of a project (or of the engine), the order queued jobs will start in, the runs
that finished; cancel, retry, cancel-all, batch actions, priority and log download."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, Job, JobStatus, Subject
from ...engine.batch import BatchResult
from ...engine.runs import RunSummary
from ...errors import InvalidTransitionError
from ..exports import MAX_EXPORT_JOBS, logs_bundle
from ..feed import Action, Feed
from ..records import RowChanges, job_row
from ..scope import Scope
from ..validation import Field

JOB_ID = {"job_id": Field(str, max_len=64)}
JOB_IDS = {"job_ids": Field(list, max_len=64, max_items=10_000)}
MOVES = ("raise", "lower", "next")
"""How a view changes queued jobs' priority: one up, one down, or above every queued job."""
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


class JobsFeed(Feed):
    """Snapshot: ``{"jobs": [row, ...] (newest first), "subjects": {id: name}, "stages": {id: label}}``.

    ``"queue": [job ids]`` too: the first :data:`QUEUE_SHOWN` queued jobs that are ready to
    start, in the order they will start (``Engine.queue_order``).

    Patch: ``{"jobs": [new rows], "changes": [{"id", <changed field>: value, ...}],
    "subjects": {new id: name}, "queue": [job ids], "finished": [run summaries]}`` (keys only
    when non-empty or changed): a job's full row goes once, then only its fields that changed
    (a running job's progress, step and ETA). ``queue`` is the whole start order again when it
    changed. ``finished`` are the runs of this scope that finished since the last patch (each
    once, never in a snapshot: a view that was not there does not announce them again).
    """

    name = "jobs"

    def __init__(self, engine: Engine, project_id: str | None = None) -> None:
        super().__init__(engine)
        self.scope = Scope.of_project(engine, project_id) if project_id is not None else Scope()
        self.project_id = project_id
        self._changed: dict[str, Job] = {}
        self._new_subjects: dict[str, str] = {}
        self._rows = RowChanges()
        self._queue: list[str] = []
        self._finished: list[dict[str, Any]] = []
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
        return self.engine.queue_order(self.project_id)[:QUEUE_SHOWN]

    def snapshot(self) -> dict[str, Any]:
        self._rows.resend_full(self._changed)
        self._queue = self._start_order()
        subjects: dict[str, str] = {}
        stages: dict[str, str] = {}
        for project_id in self.scope.project_ids(self.engine):
            subjects.update((s.id, s.name) for s in self.engine.get_subjects(project_id))
            stages.update((s.id, s.label) for s in self.engine.pipeline(project_id))
        jobs = self.engine.get_jobs(project_id=self.project_id)
        rows = [job_row(j) for j in jobs]
        return {"jobs": rows, "subjects": subjects, "stages": stages, "queue": self._queue}

    def take_patch(self) -> dict[str, Any] | None:
        patch: dict[str, Any] = {}
        if self._changed:
            changed = self._changed.values()
            # the start order moves when a job is queued, leaves the order shown or ends (its
            # dependents may become ready); a running job's progress leaves it alone
            shown = set(self._queue)
            moved = any(j.status is not JobStatus.RUNNING or j.id in shown for j in changed)
            rows, changes = self._rows.split(changed)
            self._changed = {}
            if rows:
                patch["jobs"] = rows
            if changes:
                patch["changes"] = changes
            queue = self._start_order() if moved else self._queue
            if queue != self._queue:
                patch["queue"] = self._queue = queue
        if self._new_subjects:
            patch["subjects"] = self._new_subjects
            self._new_subjects = {}
        if self._finished:
            patch["finished"] = self._finished
            self._finished = []
        return patch or None

    def _job_id(self, payload: dict[str, Any]) -> str:
        return self.scope.check_job(self.engine, payload["job_id"]).id

    def actions(self) -> dict[str, Action]:
        return {
            "cancel": Action(JOB_ID, lambda p: job_row(self.engine.cancel(self._job_id(p)))),
            "retry": Action(JOB_ID, self._retry),
            "cancel_all": Action({}, self._cancel_all),
            "cancel_many": Action(JOB_IDS, lambda p: batch_reply(self.engine.cancel_many(self._job_ids(p)))),
            "retry_many": Action(JOB_IDS, lambda p: batch_reply(self.engine.retry_many(self._job_ids(p)))),
            "prioritize": Action({**JOB_IDS, "move": Field(str, choices=MOVES)}, self._prioritize),
            "export_logs": Action(
                {"job_ids": Field(list, max_len=64, max_items=MAX_EXPORT_JOBS)},
                lambda p: logs_bundle(self.engine, self._job_ids(p), "jobs"),
            ),
        }

    def _job_ids(self, payload: dict[str, Any]) -> list[str]:
        """The payload's job ids, each in this widget's scope (else the request is refused)."""
        return [self.scope.check_job(self.engine, job_id).id for job_id in dict.fromkeys(payload["job_ids"])]

    def _prioritize(self, payload: dict[str, Any]) -> dict[str, Any]:
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

    def _retry(self, payload: dict[str, Any]) -> dict[str, Any]:
        job = self.scope.check_job(self.engine, payload["job_id"])
        return job_row(retry_newest(self.engine, job))

    def _cancel_all(self, _payload: dict[str, Any]) -> dict[str, Any]:
        return {"cancelled": len(self.engine.cancel_all(self.project_id))}


def batch_reply(result: BatchResult) -> dict[str, Any]:
    """What a view says after a batch action: how many were done, how many skipped and the
    first few distinct reasons (a skipped list may be as long as the selection)."""
    reasons = list(dict.fromkeys(result.skipped.values()))[:3]
    return {"done": len(result.done), "skipped": len(result.skipped), "reasons": reasons}


def run_row(summary: RunSummary) -> dict[str, Any]:
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
