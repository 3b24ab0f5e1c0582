"""Log lines of the jobs that views watch: tails on request, then only the new lines."""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ...engine import Engine, LogEntry
from ...engine.events import Unsubscribe
from ..feed import Feed, Handler
from ..protocol import LogLine
from ..records import log_line
from ..scope import Scope


class LogFeed(Feed):
    """New log lines of the watched jobs, so that a log costs O(lines) on the wire.

    A view *watches* jobs with the ``watch`` request, under its view id, and gets their tails
    (the last ``tail`` lines) in the reply; patches then carry
    ``{"lines": {job_id: [[seq, time, level, message], ...]}}`` with only the lines added since.
    Watches are leases: a view renews its watch every few seconds and one it stops renewing
    (a closed page) lapses after ``lease_seconds``. A ``pinned`` job (the job of a
    :class:`~pbrain_widgets.widgets.LogStream`) is always followed and its tail is in the
    snapshot: ``{"tails": {job_id: [lines]}}``. ``logs`` fetches older lines (``before`` a seq).
    Both requests serve only the jobs of the widget's ``scope``.
    """

    name = "logs"
    live = True

    def __init__(
        self,
        engine: Engine,
        scope: Scope,
        pinned: str | None = None,
        tail: int = 1000,
        lease_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(engine)
        self.scope = scope
        self.pinned = engine.get_job(pinned).id if pinned is not None else None
        self.tail = tail
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._leases: dict[str, tuple[frozenset[str], float]] = {}
        self._followed: dict[str, Unsubscribe] = {}
        self._pending: dict[str, deque[LogEntry]] = {}
        self._refollow()

    @property
    def followed(self) -> set[str]:
        """Ids of the jobs whose new lines this feed sends."""
        return set(self._followed)

    def _refollow(self) -> None:
        now = self._clock()
        self._leases = {v: lease for v, lease in self._leases.items() if lease[1] > now}
        wanted = {job_id for jobs, _ in self._leases.values() for job_id in jobs}
        if self.pinned is not None:
            wanted.add(self.pinned)
        for job_id in set(self._followed) - wanted:
            self._followed.pop(job_id)()
            self._pending.pop(job_id, None)
        for job_id in wanted - set(self._followed):
            self._followed[job_id] = self.engine.on_job_logs(job_id, functools.partial(self._on_line, job_id))

    def _on_line(self, job_id: str, entry: LogEntry) -> None:
        pending = self._pending.get(job_id)
        if pending is None:
            pending = self._pending[job_id] = deque(maxlen=self.tail)
        pending.append(entry)
        self._wake()

    def _tail(self, job_id: str) -> list[LogLine]:
        return [log_line(e) for e in self.engine.get_logs(job_id, tail=self.tail)]

    def snapshot(self) -> dict[str, Any]:
        return {"tails": {self.pinned: self._tail(self.pinned)} if self.pinned is not None else {}}

    def take_patch(self) -> dict[str, Any] | None:
        if any(expiry <= self._clock() for _, expiry in self._leases.values()):
            self._refollow()
        if not self._pending:
            return None
        lines = {job_id: [log_line(e) for e in entries] for job_id, entries in self._pending.items()}
        self._pending = {}
        return {"lines": lines}

    def close(self) -> None:
        for unsubscribe in self._followed.values():
            unsubscribe()
        self._followed.clear()
        self._pending.clear()
        super().close()

    def actions(self) -> dict[str, Handler]:
        return {"watch": self._watch, "logs": self._logs}

    def _watch(self, payload: dict[str, Any]) -> dict[str, Any]:
        job_ids = [self.scope.check_job(self.engine, j).id for j in dict.fromkeys(payload["job_ids"])]
        view = payload["view"]
        before = self._leases.get(view, (frozenset(), 0.0))[0]
        if job_ids:
            self._leases[view] = (frozenset(job_ids), self._clock() + self.lease_seconds)
        else:
            self._leases.pop(view, None)
        self._refollow()
        return {"tails": {j: self._tail(j) for j in job_ids if j not in before}}

    def _logs(self, payload: dict[str, Any]) -> dict[str, Any]:
        job_id = self.scope.check_job(self.engine, payload["job_id"]).id
        entries = self.engine.get_logs(job_id, tail=payload["limit"], before=payload["before"])
        return {"job_id": job_id, "before": payload["before"], "lines": [log_line(e) for e in entries]}
