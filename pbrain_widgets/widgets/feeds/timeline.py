"""Every started or queued job on a time axis, the steps inside them, and the resources of the
running jobs over time, for the Timeline."""

from __future__ import annotations

from collections import deque
from typing import Any

from ...engine import Engine, Job, Subject
from ..feed import Feed
from ..protocol import MAX_TABLE_ROWS
from ..scope import Scope

RESOURCE_SECONDS = 3600
"""Seconds of the resources strip kept (one bucket per second)."""

MARK_CHARS = 200_000
"""About the most characters of step marks one message carries with its rows: a job's marks
travel with its row, and a message closes early when they reach this (p-brain's steps are long)."""


def timeline_row(job: Job) -> tuple[Any, ...]:
    """``[id, subject_id, stage_id, status, queued_at, start_time, end_time, attempt, worker]``:
    a tuple (sent as a JSON array, and nothing for the garbage collector to walk), since a
    timeline of 10,000 jobs sends them all at once. ``worker`` is where the job
    ran (a Dask worker's address) or ``None`` for the kernel's machine."""
    return (
        job.id,
        job.subject_id,
        job.stage_id,
        job.status.value,
        round(job.queued_at, 3),
        None if job.start_time is None else round(job.start_time, 3),
        None if job.end_time is None else round(job.end_time, 3),
        job.attempt,
        job.worker,
    )


class ResourceBuckets:
    """Total CPU and memory of the running jobs, per second, and per worker where jobs ran on
    an executor's workers (Dask).

    Each job's samples (``resource_history``: ``(time, cpu_percent, rss_bytes)``) land in the
    bucket of their second, the job's latest sample of that second counting once; a bucket's
    totals are the sums over jobs. Only the last :data:`RESOURCE_SECONDS` seconds are kept.
    """

    def __init__(self) -> None:
        self._buckets: dict[int, dict[str, tuple[float, int, str | None]]] = {}
        self._order: deque[int] = deque()
        self._seen: dict[str, float] = {}
        self.changed: set[int] = set()

    def add(self, job: Job) -> bool:
        """Take the job's samples not seen yet; whether any was new."""
        last = self._seen.get(job.id, float("-inf"))
        new = [s for s in job.resource_history if s[0] > last]
        if not new:
            return False
        self._seen[job.id] = new[-1][0]
        for t, cpu, rss in new:
            second = int(t)
            bucket = self._buckets.get(second)
            if bucket is None:
                bucket = self._buckets[second] = {}
                self._insert(second)
            bucket[job.id] = (cpu, rss, job.worker)
            self.changed.add(second)
        return True

    def _insert(self, second: int) -> None:
        self._order.append(second)
        if len(self._order) > 1 and self._order[-2] > second:  # late sample: keep seconds sorted
            self._order = deque(sorted(self._order))
        while len(self._order) > RESOURCE_SECONDS:
            dropped = self._order.popleft()
            self._buckets.pop(dropped, None)
            self.changed.discard(dropped)

    def rows(self, seconds: Any = None) -> list[list[Any]]:
        """``[second, total cpu percent, total rss bytes]`` for these seconds (default: all), in
        order; a fourth item ``{worker: [cpu percent, rss bytes]}`` when jobs of that second ran
        on workers (jobs on the kernel's machine count under ``""``)."""
        wanted = self._order if seconds is None else sorted(s for s in seconds if s in self._buckets)
        out: list[list[Any]] = []
        for second in wanted:
            bucket = self._buckets[second].values()
            row: list[Any] = [second, round(sum(c for c, _, _ in bucket), 1), sum(r for _, r, _ in bucket)]
            if any(w is not None for _, _, w in bucket):
                workers: dict[str, list[Any]] = {}
                for cpu, rss, worker in bucket:
                    total = workers.setdefault(worker or "", [0.0, 0])
                    total[0] = round(total[0] + cpu, 1)
                    total[1] += rss
                row.append(workers)
            out.append(row)
        return out


class TimelineFeed(Feed):
    """Snapshot: :class:`~pbrain_widgets.widgets.protocol.TimelineSnapshot`; patch:
    :class:`~pbrain_widgets.widgets.protocol.TimelinePatch`. A changed job's row is sent whole
    (it is short); a view keeps a job's marks in time order and skips those it has. Marks are the
    job's step changes while it ran (:attr:`Job.steps`: p-brain's step messages, a simulated
    runner's steps), kept by the engine, so jobs that ran before the widget have them.

    No message carries more than :data:`~pbrain_widgets.widgets.protocol.MAX_TABLE_ROWS` rows
    (nor much more than :data:`MARK_CHARS` of marks): a snapshot holds the newest jobs and says
    the ``total``; the older ones follow in the next patches, after the rows that changed.
    """

    name = "timeline"

    def __init__(self, engine: Engine, project_id: str | None = None) -> None:
        super().__init__(engine)
        self.scope = Scope.of_project(engine, project_id) if project_id is not None else Scope()
        self.project_id = self.scope.project_id
        self._marks: dict[str, list[list[Any]]] = {}
        self._new_marks: dict[str, list[list[Any]]] = {}
        # rows views do not hold as they are now: changed ones first, then a snapshot's backlog
        self._changed: dict[str, None] = {}
        self._backlog: dict[str, None] = {}
        self._new_subjects: dict[str, str] = {}
        self._resources = ResourceBuckets()
        # every job's row, oldest first, kept up to date: a snapshot of 10,000 jobs is a copy
        self._rows: dict[str, tuple[Any, ...]] = {}
        for job in reversed(engine.get_jobs(project_id=self.project_id)):
            self._rows[job.id] = timeline_row(job)
            if job.steps:
                self._marks[job.id] = [[t, step] for t, step in job.steps]
            self._resources.add(job)
        self._resources.changed.clear()
        self.subscribe(engine.on_job_update(self._on_job))
        self.subscribe(engine.on_subject_update(self._on_subject))

    def _on_job(self, job: Job) -> None:
        if not self.scope.covers(job.project_id, job.subject_id, job.id):
            return
        changed = False
        row = timeline_row(job)
        if self._rows.get(job.id) != row:  # progress alone changes no bar
            self._rows[job.id] = row
            if job.id not in self._backlog:
                self._changed[job.id] = None
            changed = True
        held = len(self._marks.get(job.id, ()))
        if len(job.steps) > held:
            new = [[t, step] for t, step in job.steps[held:]]
            self._marks.setdefault(job.id, []).extend(new)
            self._new_marks.setdefault(job.id, []).extend(new)
            changed = True
        if self._resources.add(job) or changed:
            self._wake()

    def _on_subject(self, subject: Subject) -> None:
        if self.scope.covers(subject.project_id, subject.id):
            self._new_subjects[subject.id] = subject.name
            self._wake()

    def _take_rows(self) -> tuple[list[tuple[Any, ...]], dict[str, list[list[Any]]]]:
        """The next rows to send whole (changed ones first, then the backlog), with the whole
        marks of the backlog's: at most one message's worth."""
        rows: list[tuple[Any, ...]] = []
        marks: dict[str, list[list[Any]]] = {}
        chars = 0
        for pending, with_marks in ((self._changed, False), (self._backlog, True)):
            while pending and len(rows) < MAX_TABLE_ROWS and chars < MARK_CHARS:
                job_id = next(iter(pending))
                del pending[job_id]
                rows.append(self._rows[job_id])
                held = self._marks.get(job_id)
                if with_marks and held:
                    marks[job_id] = list(held)
                    chars += sum(len(step) + 16 for _, step in held)
        return rows, marks

    def snapshot(self) -> dict[str, Any]:
        subjects: dict[str, str] = {}
        stages: dict[str, str] = {}
        order: list[str] = []
        for project_id in self.scope.project_ids(self.engine):
            subjects.update(self.engine.subject_names(project_id))
            for stage in self.engine.pipeline(project_id):
                stages.setdefault(stage.id, stage.label)
                if stage.id not in order:
                    order.append(stage.id)
        # the newest jobs first (the running ones, the end of the axis); a view that takes this
        # snapshot holds none of the others, whatever other views hold: all go again as backlog
        self._changed = {}
        self._new_marks = {}
        self._backlog = dict.fromkeys(reversed(self._rows))
        rows, marks = self._take_rows()
        if self._backlog:
            self._wake()
        rows.reverse()
        return {
            "jobs": rows,
            "total": len(self._rows),
            "subjects": subjects,
            "stages": stages,
            "order": order,
            "marks": marks,
            "resources": self._resources.rows(),
        }

    def take_patch(self) -> dict[str, Any] | None:
        patch: dict[str, Any] = {}
        if self._new_marks:
            # marks of rows still to come travel with them
            new = {k: v for k, v in self._new_marks.items() if k not in self._backlog}
            if new:
                patch["marks"] = new
            self._new_marks = {}
        if self._changed or self._backlog:
            rows, marks = self._take_rows()
            if rows:
                patch["jobs"] = rows
            if marks:
                patch["marks"] = {**patch.get("marks", {}), **marks}
            if self._changed or self._backlog:
                self._wake()
        if self._new_subjects:
            patch["subjects"] = self._new_subjects
            self._new_subjects = {}
        if self._resources.changed:
            patch["resources"] = self._resources.rows(self._resources.changed)
            self._resources.changed = set()
        return patch or None
