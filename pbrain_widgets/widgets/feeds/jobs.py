"""Every job of a project (or of the engine), the order queued jobs will start in, the runs
that finished; cancel, retry, cancel-all, batch actions, priority and log download."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from ...engine import Engine, Job, JobStatus, Subject
from ...engine.batch import BatchResult
from ...engine.loop_thread import drive, drive_in_slices
from ...engine.models import ACTIVE_JOB_STATUSES
from ...engine.runs import RunSummary
from ...errors import InvalidTransitionError
from ..exports import logs_bundle
from ..feed import Feed, Handler, in_slices
from ..protocol import (
    MAX_FAILED_NEWS,
    QUEUE_SHOWN,
    Actionable,
    BatchDone,
    Cancelled,
    Download,
    FailedJob,
    JobRow,
    JobsPatch,
    JobsSnapshot,
    JobsWindow,
    JobsWindowPayload,
    JobsWindowReply,
    Prioritized,
    RunRow,
    StatusCounts,
)
from ..records import RowChanges, job_row, job_table
from ..scope import Scope
from ..validation import BadRequest
from .job_listing import RETRYABLE, JobLister, Listing, ListingSpec

log = logging.getLogger(__name__)

WINDOW_LEASE_SECONDS = 30.0
"""A view's window lapses when the view has not asked for it again for this long (a closed page)."""
MAX_VIEWS = 16
"""Most views whose windows one JobMonitor keeps (beyond, the oldest lease goes)."""
SCAN_COST_FACTOR = 9.0
"""A scanning listing is made again at most once per this many times what making it took, so
that a text filter over 100,000 jobs takes a tenth of the engine's loop at most."""


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


@dataclass(frozen=True)
class _Scanned:
    """A scanning spec's whole listing (see :mod:`.job_listing`)."""

    ids: list[str]
    actionable: Actionable
    version: int
    """The feed's list version when the scan began."""
    again_at: float
    """When it may be made again (the feed's clock)."""


@dataclass
class _Window:
    """One view's window: what it lists, which rows, and what it was last sent."""

    view: str
    spec: ListingSpec
    asked: int
    offset: int
    count: int
    keep: tuple[str, ...]
    expires: float
    version: int = -1
    """The feed's list version the window was made at."""
    sent: JobsWindow | None = None
    held: frozenset[str] = frozenset()
    """The rows the view holds after ``sent``."""
    scanned: _Scanned | None = None
    """A scanning spec's listing."""


class JobsFeed(Feed):
    """Snapshot: :class:`~pbrain_widgets.widgets.protocol.JobsSnapshot` (counts, names, the
    start order; no rows); patch: :class:`~pbrain_widgets.widgets.protocol.JobsPatch`.

    Each view asks for its window with ``jobs_window``
    (:class:`~pbrain_widgets.widgets.protocol.JobsWindowPayload`: a listing, see
    :mod:`.job_listing`, and a range of its rows); the reply carries those rows whole and the
    window, and patches keep it current: ``windows[view]`` when its rows or their order changed,
    a job's whole row when a view holds it and did not before, else only its changed fields
    keyed by its ``seq``. So a message is as large as what views show, never as the number of
    jobs. Windows are leases (renewed by asking again; one not renewed for
    :data:`WINDOW_LEASE_SECONDS` lapses).

    ``queue``: the first :data:`~pbrain_widgets.widgets.protocol.QUEUE_SHOWN` queued jobs that
    are ready to start, in the order they will start, whole again in a patch when it changed.
    ``ended``: the jobs that completed or failed since the last patch; ``finished``: the runs of
    this scope that finished.
    """

    name = "jobs"

    def __init__(
        self, engine: Engine, project_id: str | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(engine)
        self.scope = Scope.of_project(engine, project_id) if project_id is not None else Scope()
        self.project_id = project_id
        self._clock = clock
        self._lister = JobLister(engine, project_id)
        self._windows: dict[str, _Window] = {}
        self._rescans: dict[str, asyncio.Task[None]] = {}  # view -> its listing being made again
        self._changed: dict[str, Job] = {}
        self._seen: dict[str, tuple[JobStatus, int]] = {}  # status and priority of jobs that changed
        self._version = 0  # one higher whenever a listing or the start order may have changed
        self._queue_version = 0
        self._new_subjects: dict[str, str] = {}
        self._rows = RowChanges()
        self._queue: list[int] = []
        self._counts: StatusCounts = {}
        self._stage_counts: dict[str, StatusCounts] = {}
        self._total = 0
        self._completed = 0
        self._failed: list[FailedJob] = []
        self._more_failed = 0
        self._finished: list[RunRow] = []
        self.subscribe(engine.on_job_update(self._on_job))
        self.subscribe(engine.on_subject_update(self._on_subject))
        self.subscribe(engine.on_run_finished(self._on_run))

    def _on_job(self, job: Job) -> None:
        if not self.scope.covers(job.project_id, job.subject_id, job.id):
            return
        self._changed[job.id] = job
        before = self._seen.get(job.id)
        now = self._seen[job.id] = (job.status, job.priority)
        if before is None and job.retry_of is not None:
            self._lister.new_attempt()
        if before != now:
            self._version += 1
        if before is None or before[0] is not job.status:  # (an event: the status just changed)
            if job.status is JobStatus.COMPLETED:
                self._completed += 1
            elif job.status is JobStatus.FAILED and job.blocked_by is None:
                if len(self._failed) < MAX_FAILED_NEWS:
                    failed: FailedJob = {"id": job.id, "subject_id": job.subject_id, "stage_id": job.stage_id}
                    self._failed.append(failed)
                else:
                    self._more_failed += 1
        self._wake()

    def _on_subject(self, subject: Subject) -> None:
        if self.scope.covers(subject.project_id, subject.id):
            self._new_subjects[subject.id] = subject.name
            self._wake()

    def _on_run(self, summary: RunSummary) -> None:
        if self.project_id is None or self.project_id in summary.project_ids:
            self._finished.append(run_row(summary))
            self._wake()

    def _start_order(self) -> list[int]:
        ids = self.engine.queue_order(self.project_id, limit=QUEUE_SHOWN)
        return [seq for (seq,) in self.engine.job_fields(ids, "seq")]

    def _stage_ids(self) -> list[str]:
        return [s.id for p in self.scope.project_ids(self.engine) for s in self.engine.pipeline(p)]

    def _all_counts(self) -> tuple[StatusCounts, dict[str, StatusCounts]]:
        def named(counts: dict[JobStatus, int]) -> StatusCounts:
            return {status.value: n for status, n in counts.items()}

        return named(self.engine.count_newest(self.project_id)), {
            stage_id: named(self.engine.count_newest(self.project_id, stage_id))
            for stage_id in self._stage_ids()
        }

    def snapshot(self) -> JobsSnapshot:
        subjects, stages = self._lister.names()
        self._queue = self._start_order()
        self._counts, self._stage_counts = self._all_counts()
        self._total = self.engine.job_count(self.project_id)
        return {
            "total": self._total,
            "counts": dict(self._counts),
            "stage_counts": {k: dict(v) for k, v in self._stage_counts.items()},
            "subjects": subjects,
            "stages": stages,
            "queue": self._queue,
        }

    # -- windows -------------------------------------------------------------------------------

    def _jobs_window(self, payload: JobsWindowPayload) -> Any:
        """Answer a view's window request: its rows whole, and the window (kept current by the
        next patches while the lease lasts). A listing that scans is made in slices of the
        engine's loop first (the reply is then an awaitable)."""
        view = payload["view"]
        spec = ListingSpec.from_payload(self.engine, self.scope, payload)
        keep = tuple(
            self.scope.check_job(self.engine, job_id).id for job_id in dict.fromkeys(payload["keep"])
        )
        if not payload["count"] and not spec.pinned and not keep:
            self._windows.pop(view, None)
            self._forget_unheld()
            return {"jobs": job_table([]), "window": _empty_window(payload["asked"])}
        old = self._windows.get(view)
        window = _Window(
            view, spec, payload["asked"], payload["offset"], payload["count"], keep, self._expiry()
        )
        if spec.scans:
            if old is not None and old.spec == spec and old.scanned is not None:
                window.scanned = old.scanned
            elif self._in_slices():
                return self._open_scanned(window)
            else:
                window.scanned = drive(self._scanning(spec))
        return self._open(window)

    async def _open_scanned(self, window: _Window) -> JobsWindowReply:
        window.scanned = await drive_in_slices(self._scanning(window.spec))
        return self._open(window)

    def _open(self, window: _Window) -> JobsWindowReply:
        view = window.view
        current = self._windows.get(view)
        mine = current is None or current.asked <= window.asked  # else a later request came first
        if mine:
            while len(self._windows) >= MAX_VIEWS and view not in self._windows:
                del self._windows[next(iter(self._windows))]  # the oldest view's lease
            self._windows[view] = window
        sent = self._make_window(window, force=True)
        assert sent is not None
        rows = [job_row(self.engine.get_job(job_id)) for job_id in window.held]
        if mine:
            self._rows.sent(rows)
            self._forget_unheld()
        return {"jobs": job_table(rows), "window": sent}

    def _in_slices(self) -> bool:
        """Whether long work may run in slices here: on the engine's running loop."""
        return threading.current_thread() is self.engine.thread and not self.engine.closed

    def _scanning(self, spec: ListingSpec) -> Generator[None, None, _Scanned]:
        version, began = self._version, time.perf_counter()
        ids, actionable = yield from self._lister.scan(spec)
        # made again at most every SCAN_COST_FACTOR x what it took (sliced: the loop's other
        # work counts too, so a busy loop rescans less often)
        again_at = self._clock() + SCAN_COST_FACTOR * (time.perf_counter() - began)
        return _Scanned(ids, actionable, version, again_at)

    def _rescan_later(self, window: _Window) -> None:
        """Make a window's listing again when its turn comes, in slices (the window keeps the
        one it has until then)."""
        assert window.scanned is not None
        if window.view in self._rescans:
            return
        if self._clock() < window.scanned.again_at:
            self._wake()  # its turn comes at a later tick
        elif self._in_slices():
            self._rescans[window.view] = asyncio.ensure_future(self._rescan(window.view, window.spec))
        else:
            window.scanned = drive(self._scanning(window.spec))

    async def _rescan(self, view: str, spec: ListingSpec) -> None:
        try:
            scanned = await drive_in_slices(self._scanning(spec))
        except Exception:  # never into the loop; the view keeps the listing it has
            log.exception("the JobMonitor could not make view %r's listing again", view)
            return
        finally:
            self._rescans.pop(view, None)
        window = self._windows.get(view)
        if window is not None and window.spec == spec:
            window.scanned = scanned
            self._wake()

    def _expiry(self) -> float:
        return self._clock() + WINDOW_LEASE_SECONDS

    def _make_window(self, window: _Window, force: bool = False) -> JobsWindow | None:
        """The window again if the listing moved since it was made (``None`` if not, or if a
        scanning listing is being made again); updates ``window.held`` and ``window.sent``."""
        spec = window.spec
        if spec.scans:
            assert window.scanned is not None
            if window.scanned.version != self._version:
                self._rescan_later(window)
            scanned = window.scanned
            version = scanned.version
            if not force and window.version == version:
                return None
            page = Listing(
                scanned.ids[window.offset : window.offset + window.count],
                len(scanned.ids),
                scanned.actionable,
            )
        else:
            version = self._version
            if not force and window.version == version:
                return None
            page = self._lister.page(spec, window.offset, window.count)
        window.version = version
        held = [job_id for job_id, _ in spec.pinned] + list(window.keep)
        attempts = self._lister.attempts(list(dict.fromkeys(page.ids + held)))
        earlier = {job_id: ids[1:] for job_id, ids in attempts.items() if ids[0] == job_id and len(ids) > 1}
        superseded = [job_id for job_id, ids in attempts.items() if ids[0] != job_id]
        listed = set(page.ids)
        others = list(
            dict.fromkeys(
                j for j in [*held, *(e for ids in earlier.values() for e in ids)] if j not in listed
            )
        )
        seqs = dict(
            zip(
                page.ids + others,
                (s for (s,) in self.engine.job_fields(page.ids + others, "seq")),
                strict=True,
            )
        )
        made: JobsWindow = {
            "asked": window.asked,
            "offset": window.offset,
            "listed": page.listed,
            "ids": [seqs[j] for j in page.ids],
            "held": [seqs[j] for j in others],
            "earlier": [(seqs[j], [seqs[e] for e in ids]) for j, ids in earlier.items()],
            "superseded": [seqs[j] for j in superseded],
            "actionable": page.actionable,
        }
        window.held = frozenset(seqs)
        if made == window.sent and not force:
            return None
        window.sent = made
        return made

    def _forget_unheld(self) -> None:
        self._rows.keep_only({job_id for w in self._windows.values() for job_id in w.held})

    def take_patch(self) -> JobsPatch | None:
        patch: JobsPatch = {}
        now = self._clock()
        lapsed = [view for view, w in self._windows.items() if w.expires <= now]
        for view in lapsed:
            del self._windows[view]
        changed, self._changed = self._changed, {}
        if self._queue_version != self._version:
            self._queue_version = self._version
            queue = self._start_order()
            if queue != self._queue:
                patch["queue"] = self._queue = queue
        before = {view: w.held for view, w in self._windows.items()}
        windows: dict[str, JobsWindow] = {}
        for view, window in self._windows.items():
            made = self._make_window(window)
            if made is not None:
                windows[view] = made
        fresh = {j for view, w in self._windows.items() for j in w.held - before.get(view, frozenset())}
        held = {j for w in self._windows.values() for j in w.held}
        if lapsed or fresh or windows:
            self._forget_unheld()
        self._rows.resend_full(fresh)
        jobs = [job for job_id, job in changed.items() if job_id in held and job_id not in fresh]
        jobs += [self.engine.get_job(job_id) for job_id in fresh]
        rows, changes = self._rows.split(jobs)
        if rows:
            patch["jobs"] = job_table(rows)
        if changes:
            patch["changes"] = changes
        if windows:
            patch["windows"] = windows
        if changed:
            counts, stage_counts = self._all_counts()
            if counts != self._counts:
                patch["counts"] = self._counts = counts
            moved = {k: v for k, v in stage_counts.items() if self._stage_counts.get(k) != v}
            if moved:
                patch["stage_counts"] = moved
                self._stage_counts.update(moved)
            total = self.engine.job_count(self.project_id)
            if total != self._total:
                patch["total"] = self._total = total
        if self._completed or self._failed or self._more_failed:
            patch["ended"] = {
                "completed": self._completed,
                "failed": self._failed,
                "more_failed": self._more_failed,
            }
            self._completed, self._failed, self._more_failed = 0, [], 0
        if self._new_subjects:
            patch["subjects"] = self._new_subjects
            self._new_subjects = {}
        if self._finished:
            patch["finished"] = self._finished
            self._finished = []
        return patch or None

    # -- actions -------------------------------------------------------------------------------

    def actions(self) -> dict[str, Handler]:
        return {
            **job_actions(self.engine, lambda: self.scope),
            "jobs_window": self._jobs_window,  # type: ignore[dict-item]
            "cancel_all": self._cancel_all,
            "cancel_many": self._cancel_many,
            "retry_many": self._retry_many,
            "prioritize": self._prioritize,
            "export_logs": self._export_logs,
        }

    async def _cancel_many(self, payload: dict[str, Any]) -> BatchDone:
        picked = await self._picked(payload, ACTIVE_JOB_STATUSES)
        return batch_reply(await in_slices(self.engine.cancel_many, picked))

    async def _retry_many(self, payload: dict[str, Any]) -> BatchDone:
        picked = await self._picked(payload, RETRYABLE)
        return batch_reply(await in_slices(self.engine.retry_many, picked))

    async def _picked(
        self, payload: dict[str, Any], statuses: frozenset[JobStatus] | None = None
    ) -> list[str]:
        """The payload's job ids, each in this widget's scope (else the request is refused); or,
        with ``listed_by``, the jobs that view's listing holds now (only those with ``statuses``:
        a batch on a whole listing acts on the jobs it can act on), made in slices."""
        view = payload.get("listed_by")
        if view is None:
            return [
                self.scope.check_job(self.engine, job_id).id for job_id in dict.fromkeys(payload["job_ids"])
            ]
        window = self._windows.get(view)
        if window is None:
            raise BadRequest(f"view {view!r} has no listing here (its window lapsed); ask for it again")
        if window.scanned is not None and window.scanned.version == self._version:
            ids = window.scanned.ids
        else:
            ids, _ = await drive_in_slices(self._lister.scan(window.spec))
        if statuses is None:
            return ids
        return [
            job_id
            for job_id, (status,) in zip(ids, self.engine.job_fields(ids, "status"), strict=True)
            if status in statuses
        ]

    async def _prioritize(self, payload: dict[str, Any]) -> Prioritized:
        """Raise or lower queued jobs' priority by one, or put them above every queued job of the
        engine (``next``: they start next, in their queue order)."""
        move = payload["move"]
        picked = await self._picked(payload)
        fields = self.engine.job_fields(picked, "status", "priority")
        queued = [(j, p) for j, (status, p) in zip(picked, fields, strict=True) if status is JobStatus.QUEUED]
        if move == "next":
            every = self.engine.get_job_ids(status=JobStatus.QUEUED)
            top = max((p for (p,) in self.engine.job_fields(every, "priority")), default=0) + 1
            moves = [(job_id, top) for job_id, _ in queued]
        else:
            step = 1 if move == "raise" else -1
            moves = [(job_id, priority + step) for job_id, priority in queued]
        # one batch in slices of the engine's loop (from a worker thread); a job that started
        # meanwhile is skipped, and none starts before every move is made
        changed = len((await in_slices(self.engine.set_priority_many, moves)).changed)
        return {"changed": changed, "skipped": len(picked) - changed}

    async def _export_logs(self, payload: dict[str, Any]) -> Download:
        return await in_slices(logs_bundle, self.engine, await self._picked(payload), "jobs")

    async def _cancel_all(self, _payload: dict[str, Any]) -> Cancelled:
        return {"cancelled": len(await in_slices(self.engine.cancel_all, self.project_id))}

    def close(self) -> None:
        for task in self._rescans.values():
            task.cancel()
        super().close()


def _empty_window(asked: int) -> JobsWindow:
    return {
        "asked": asked,
        "offset": 0,
        "listed": 0,
        "ids": [],
        "held": [],
        "earlier": [],
        "superseded": [],
        "actionable": {"cancel": 0, "retry": 0, "queued": 0},
    }


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
