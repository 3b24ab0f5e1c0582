"""What one JobMonitor view lists, computed in the kernel so that a view holds only what it shows.

A listing is the jobs under a tab (a status, or all), the newest attempt of each subject x stage
(every attempt on request), of the stage in focus, whose subject, stage or id holds a text; in
the monitor's order (running, failed, queued, completed, cancelled; ready queued jobs in the
order they will start; in each status the latest to reach it first) or sorted by a column. A
view's open cards stay listed under the status they had when opened.

Without a text, every attempt or a column, a page of the listing costs its position
(:meth:`~pbrain_widgets.Engine.listed_job_ids` slices the engine's per-status lists); with
them the whole listing is made (a scan: 100,000 jobs in a few hundred milliseconds, in slices
of the engine's loop of a few milliseconds each), which the feed repeats no more often than its
cost allows.
"""

from __future__ import annotations

import functools
import heapq
import math
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...engine import Engine, JobStatus
from ...engine.loop_thread import SCAN_STEP
from ...engine.models import ACTIVE_JOB_STATUSES
from ..protocol import Actionable, JobsWindowPayload
from ..scope import Scope
from ..validation import BadRequest

LIST_ORDER = (JobStatus.RUNNING, JobStatus.FAILED, JobStatus.QUEUED, JobStatus.COMPLETED, JobStatus.CANCELLED)
"""The statuses in the order a listing shows them: what needs eyes first."""
STATUS_RANK = {status: rank for rank, status in enumerate(LIST_ORDER)}
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})
"""What a retry takes (of the newest attempt only)."""

Names = tuple[dict[str, str], dict[str, str]]
"""Subject id -> name and stage id -> label (:meth:`JobLister.names`)."""


@dataclass(frozen=True)
class ListingSpec:
    """What a view lists (:class:`~pbrain_widgets.widgets.protocol.JobsWindowPayload`)."""

    tab: JobStatus | None = None
    """One status, or ``None`` for all."""
    query: str = ""
    """Lower-case text to find; empty for none."""
    history: bool = False
    stage_id: str | None = None
    sort: str | None = None
    descending: bool = False
    pinned: tuple[tuple[str, JobStatus], ...] = ()
    """Open cards: ``(job id, status when opened)``."""

    @classmethod
    def from_payload(cls, engine: Engine, scope: Scope, payload: JobsWindowPayload) -> ListingSpec:
        """The spec of a checked ``jobs_window`` payload; a job outside ``scope``, a status or a
        stage the scope does not know is refused."""
        stage_id = payload.get("stage_id")
        if stage_id is not None:
            known = {s.id for p in scope.project_ids(engine) for s in engine.pipeline(p)}
            if stage_id not in known:
                raise BadRequest(f"stage {stage_id!r} is unknown here; stages: {', '.join(sorted(known))}")
        pinned = []
        for job_id, status in payload["pinned"]:
            job = scope.check_job(engine, job_id)
            pinned.append((job.id, _status(status, "pinned")))
        tab = payload["tab"]
        return cls(
            tab=None if tab == "all" else JobStatus(tab),
            query=(payload.get("query") or "").strip().lower(),
            history=payload["history"],
            stage_id=stage_id,
            sort=payload.get("sort"),
            descending=bool(payload.get("descending")),
            pinned=tuple(pinned),
        )

    @property
    def scans(self) -> bool:
        """Whether a page needs the whole listing (a text, every attempt or a column sort)."""
        return bool(self.query or self.history or self.sort)

    @property
    def statuses(self) -> tuple[JobStatus, ...]:
        return LIST_ORDER if self.tab is None else (self.tab,)


def _status(value: str, what: str) -> JobStatus:
    try:
        return JobStatus(value)
    except ValueError:
        valid = ", ".join(s.value for s in JobStatus)
        raise BadRequest(f"{what} status {value!r} is unknown; valid: {valid}") from None


@dataclass
class Listing:
    """A page of a listing: its ids, how many the whole listing holds, and what a batch action
    on all of it would act on."""

    ids: list[str]
    listed: int
    actionable: Actionable


@dataclass
class _Pinned:
    """The open cards that leave the engine's order: listed under the status they were opened
    with (``extra``, first in their status) rather than their own (``moved``)."""

    extra: dict[JobStatus, list[str]] = field(default_factory=dict)
    moved: dict[JobStatus, set[str]] = field(default_factory=dict)
    status: dict[str, tuple[JobStatus, bool]] = field(default_factory=dict)
    """Job id -> (its status now, whether it is the newest attempt)."""


class JobLister:
    """Listings of one scope (every job of the engine, or one project's)."""

    def __init__(self, engine: Engine, project_id: str | None) -> None:
        self.engine = engine
        self.project_id = project_id
        self._text: dict[str, str] = {}  # job id -> what a query searches, lower-case
        self._attempts: dict[str, list[str]] = {}  # job id -> its subject x stage's attempts

    def _pinned(self, spec: ListingSpec) -> _Pinned:
        out = _Pinned()
        ids = [job_id for job_id, _ in spec.pinned]
        fields = self.engine.job_fields(ids, "status", "stage_id")
        for (job_id, was), (status, stage_id) in zip(spec.pinned, fields, strict=True):
            if spec.stage_id is not None and stage_id != spec.stage_id:
                continue
            newest = self.engine.is_newest(job_id)
            out.status[job_id] = (status, newest)
            if status is not was or not (newest or spec.history):
                out.extra.setdefault(was, []).append(job_id)
                if newest or spec.history:
                    out.moved.setdefault(status, set()).add(job_id)
        return out

    def page(self, spec: ListingSpec, offset: int, count: int) -> Listing:
        """Rows ``offset`` to ``offset + count`` of a listing that does not scan."""
        assert not spec.scans
        pinned = self._pinned(spec)
        counts = self.engine.count_newest(self.project_id, spec.stage_id)
        sizes = {
            s: counts[s] - len(pinned.moved.get(s, ())) + len(pinned.extra.get(s, ())) for s in spec.statuses
        }
        act = {s: counts[s] - len(pinned.moved.get(s, ())) for s in spec.statuses}
        retry = sum(act.get(s, 0) for s in RETRYABLE)
        for job_id in (j for s in spec.statuses for j in pinned.extra.get(s, ())):
            status, newest = pinned.status[job_id]
            act[status] = act.get(status, 0) + 1
            retry += status in RETRYABLE and newest
        ids: list[str] = []
        start = 0
        stop = offset + count
        for status in spec.statuses:
            size = sizes[status]
            if start < stop and start + size > offset:
                extra = pinned.extra.get(status, [])
                a, b = max(0, offset - start), min(size, stop - start)
                ids.extend(extra[a:b])
                a, b = max(0, a - len(extra)), b - len(extra)
                if b > a:
                    ids.extend(self._slice(status, spec.stage_id, a, b, pinned.moved.get(status, set())))
            start += size
        return Listing(ids, start, _actionable(act, retry))

    def _slice(
        self, status: JobStatus, stage_id: str | None, start: int, stop: int, skip: set[str]
    ) -> list[str]:
        if not skip:
            return self.engine.listed_job_ids(status, self.project_id, stage_id, start=start, stop=stop)
        ids = self.engine.listed_job_ids(status, self.project_id, stage_id, stop=stop + len(skip))
        return [job_id for job_id in ids if job_id not in skip][start:stop]

    def scan(self, spec: ListingSpec) -> Generator[None, None, tuple[list[str], Actionable]]:
        """The whole listing, in order, and what a batch action would act on: work that pauses
        (``yield``) every :data:`~pbrain_widgets.engine.loop_thread.SCAN_STEP` jobs, to drive
        with :func:`~pbrain_widgets.engine.loop_thread.drive_in_slices` (the listing is the
        engine's state when it began)."""
        pinned = self._pinned(spec)
        names = functools.cache(self.names)  # asked at most once, by the text and the sort
        every = yield from self.engine.scan_listed_job_ids(
            spec.statuses, self.project_id, spec.stage_id, every_attempt=spec.history
        )
        newest: set[str] = set()
        if spec.history:  # only the newest attempt of a failure can be retried
            newest_ids = yield from self.engine.scan_listed_job_ids(RETRYABLE, self.project_id, spec.stage_id)
            newest = {j for ids in newest_ids.values() for j in ids}
        ids: list[str] = []
        status_of: dict[str, JobStatus] = {}
        for status in spec.statuses:
            moved = pinned.moved.get(status, set())
            listed = every[status]
            segment = pinned.extra.get(status, []) + (
                [j for j in listed if j not in moved] if moved else listed
            )
            if spec.query:
                segment = yield from self._matching(segment, spec.query, names)
            ids.extend(segment)
            status_of.update(dict.fromkeys(segment, status))
            yield
        for job_id, (status, _) in pinned.status.items():
            status_of[job_id] = status
        if spec.sort:
            ids = yield from self._sorted(ids, spec.sort, spec.descending, names)
        act: dict[JobStatus, int] = {}
        for status in status_of.values():
            act[status] = act.get(status, 0) + 1
        if spec.history:
            retry = sum(1 for j, s in status_of.items() if s in RETRYABLE and j in newest)
        else:
            retry = sum(act.get(s, 0) for s in RETRYABLE)
        return ids, _actionable(act, retry)

    def names(self) -> Names:
        """Subject id -> name and stage id -> label, of the scope's projects."""
        projects = (
            [self.project_id] if self.project_id is not None else [p.id for p in self.engine.get_projects()]
        )
        subjects: dict[str, str] = {}
        stages: dict[str, str] = {}
        for project_id in projects:
            subjects.update(self.engine.subject_names(project_id))
            stages.update((s.id, s.label) for s in self.engine.pipeline(project_id))
        return subjects, stages

    def _matching(
        self, ids: list[str], query: str, names: Callable[[], Names]
    ) -> Generator[None, None, list[str]]:
        missing = [job_id for job_id in ids if job_id not in self._text]
        if missing:
            subjects, stages = names()
            for chunk in _chunks(missing):
                for job_id, (subject_id, stage_id) in zip(
                    chunk, self.engine.job_fields(chunk, "subject_id", "stage_id"), strict=True
                ):
                    text = f"{subjects.get(subject_id, '')} {stages.get(stage_id, '')} {stage_id} {job_id}"
                    self._text[job_id] = text.lower()
                yield
        searched = self._text
        found: list[str] = []
        for chunk in _chunks(ids, 8 * SCAN_STEP):
            found.extend(job_id for job_id in chunk if query in searched[job_id])
            yield
        return found

    def _sorted(
        self, ids: list[str], key: str, descending: bool, names: Callable[[], Names]
    ) -> Generator[None, None, list[str]]:
        """``ids`` sorted by a column, stably both ways: sorted in parts, then merged, pausing
        between parts (one sort of 100,000 keys would hold the loop for tens of ms)."""
        subjects, stages = names()
        now = time.time()
        parts: list[list[tuple[Any, str]]] = []
        for chunk in _chunks(ids):
            fields = self.engine.job_fields(
                chunk, "stage_id", "subject_id", "status", "progress", "start_time", "end_time", "eta_seconds"
            )
            keys = [_sort_key(key, f, subjects, stages, now) for f in fields]
            parts.append(sorted(zip(keys, chunk, strict=True), key=_first, reverse=descending))
            yield
        out: list[str] = []
        for _, job_id in heapq.merge(*parts, key=_first, reverse=descending):  # ties: earlier part first
            out.append(job_id)
            if len(out) % (8 * SCAN_STEP) == 0:
                yield
        return out

    def attempts(self, job_ids: Iterable[str]) -> Mapping[str, list[str]]:
        """Each job's subject x stage's attempts, newest first (kept until :meth:`new_attempt`)."""
        missing = [job_id for job_id in job_ids if job_id not in self._attempts]
        for job_id, subject_id, stage_id in self.engine.job_fields(missing, "id", "subject_id", "stage_id"):
            self._attempts[job_id] = self.engine.get_job_ids(subject_id=subject_id, stage_id=stage_id)
        return {job_id: self._attempts[job_id] for job_id in job_ids}

    def new_attempt(self) -> None:
        """A job was retried or run again: the attempts known so far are out of date."""
        self._attempts.clear()


def _chunks(ids: list[str], size: int | None = None) -> Iterator[list[str]]:
    """``ids`` in parts of ``size`` (default :data:`SCAN_STEP`: a part's fields and keys cost a
    few milliseconds)."""
    size = size or SCAN_STEP
    return (ids[i : i + size] for i in range(0, len(ids), size))


def _first(pair: tuple[Any, str]) -> Any:
    return pair[0]


def _sort_key(
    key: str, f: tuple[Any, ...], subjects: Mapping[str, str], stages: Mapping[str, str], now: float
) -> Any:
    """A job's key for a column sort, from its fields (stage, subject, status, progress, start,
    end, ETA)."""
    if key == "stage":
        return stages.get(f[0], f[0]).lower()
    if key == "subject":
        return subjects.get(f[1], f[1]).lower()
    if key == "status":
        return STATUS_RANK[f[2]]
    if key == "progress":
        return f[3]
    if key == "elapsed":
        return -1.0 if f[4] is None else (f[5] if f[5] is not None else now) - f[4]
    return f[6] if f[2] is JobStatus.RUNNING and f[6] is not None else math.inf  # eta: estimates first


def _actionable(act: Mapping[JobStatus, int], retry: int) -> Actionable:
    return {
        "cancel": sum(act.get(s, 0) for s in ACTIVE_JOB_STATUSES),
        "retry": retry,
        "queued": act.get(JobStatus.QUEUED, 0),
    }
