"""The scheduler: which queued jobs may start now.

Pure bookkeeping, no I/O and no asyncio: jobs wait for their dependency jobs, ready jobs start
by priority (higher first) then queue order, and at most ``max_concurrent`` run at once.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator

from ..errors import InvalidArgumentError, check_count


def check_max_concurrent(value: object) -> int:
    return check_count("max_concurrent", value, minimum=1)


def check_priority(value: object, job_id: object = None) -> int:
    """``value`` if it is a priority: an integer, not a bool (higher starts first; default 0).
    Else :class:`InvalidArgumentError` naming the value (and the job, if given)."""
    if isinstance(value, bool) or not isinstance(value, int):
        of = "" if job_id is None else f" (job {job_id!r})"
        raise InvalidArgumentError(f"priority must be an integer, got {value!r}{of}")
    return value


class Scheduler:
    """Dependency and concurrency bookkeeping for queued and running jobs (by id)."""

    def __init__(self, max_concurrent: int) -> None:
        self.max_concurrent = check_max_concurrent(max_concurrent)
        self.running: set[str] = set()
        self._heap: list[tuple[int, int, str]] = []
        self._ready: dict[str, tuple[int, int]] = {}  # job id -> (priority, seq) while ready
        self._unmet: dict[str, set[str]] = {}  # job id -> dependency ids not yet completed
        self._dependents: dict[str, set[str]] = {}  # job id -> jobs waiting for it
        self._order: dict[str, tuple[int, int]] = {}  # (priority, seq) of every queued job

    def __contains__(self, job_id: str) -> bool:
        return job_id in self._order or job_id in self.running

    def add(self, job_id: str, seq: int, priority: int, waits_for: Iterable[str]) -> None:
        """Queue a job that starts once every job in ``waits_for`` has completed."""
        self._order[job_id] = (priority, seq)
        unmet = set(waits_for)
        if unmet:
            self._unmet[job_id] = unmet
            for dep in unmet:
                self._dependents.setdefault(dep, set()).add(job_id)
        else:
            self._push(job_id)

    def _push(self, job_id: str) -> None:
        priority, seq = self._order[job_id]
        self._ready[job_id] = (priority, seq)
        heapq.heappush(self._heap, (-priority, seq, job_id))

    def set_priority(self, job_id: str, priority: int) -> None:
        self.set_priorities([(job_id, priority)])

    def set_priorities(self, priorities: Iterable[tuple[str, int]]) -> None:
        """Set queued jobs' priorities (``(job id, priority)`` pairs; checked by the caller).

        A ready job gets a new heap entry (its old one is left stale, skipped when met); when
        they are many (an eighth of the ready jobs), one rebuild of the heap costs less than
        their pushes."""
        moved: list[tuple[int, int, str]] = []
        for job_id, priority in priorities:
            _, seq = self._order[job_id]
            self._order[job_id] = (priority, seq)
            if job_id in self._ready:
                self._ready[job_id] = (priority, seq)
                moved.append((-priority, seq, job_id))
        if len(moved) > len(self._ready) // 8:
            self._rebuild()
            return
        for entry in moved:
            heapq.heappush(self._heap, entry)
        self._drop_stale()

    def _rebuild(self) -> None:
        self._heap = [(-priority, seq, j) for j, (priority, seq) in self._ready.items()]
        heapq.heapify(self._heap)

    def _drop_stale(self) -> None:
        """Rebuild the heap once its stale entries (of jobs removed or moved) pass a quarter of
        the live ones. Each is skipped by every walk of the start order and by the pops: those
        in front (a batch cancel or lowering) cost every view's tick, 100,000 of them ~0.2 s;
        at a quarter a walk meets at most 25,000 and the rebuilds cost about four entries per
        stale one."""
        if len(self._heap) > len(self._ready) + len(self._ready) // 4 + 64:
            self._rebuild()

    def compact(self) -> None:
        """Drop every stale heap entry now (a batch's end: what it left behind would be walked
        by every view's tick until those jobs start)."""
        if len(self._heap) > len(self._ready) + 64:
            self._rebuild()

    def start_order(self, limit: int | None = None, accept: Callable[[str], bool] | None = None) -> list[str]:
        """The jobs ready to start (their dependencies completed), in the order they will start:
        higher priority first, then queue order. Jobs waiting for dependencies are not in it.

        ``accept`` keeps only the jobs it is true of; ``limit`` returns only the first ones."""
        return list(itertools.islice(self.iter_start_order(accept), limit))

    def iter_start_order(
        self, accept: Callable[[str], bool] | None = None, frozen: bool = False
    ) -> Iterator[str]:
        """:meth:`start_order` lazily: the first ``k`` cost ``O(k log k)`` plus the entries
        skipped on the way, not a sort of every ready job (a view asks for the first few hundred
        of tens of thousands, several times a second while a cohort runs). It walks the heap in
        order (a node's children are not smaller than it); consume it before the next change,
        or walk a copy of the queue as it is now (``frozen``: a copy of two C-level containers,
        a millisecond for 100,000 jobs), which may be consumed across changes, in slices."""
        heap, ready = self._heap, self._ready
        if frozen:
            heap, ready = list(heap), dict(ready)
        frontier = [(heap[0], 0)] if heap else []
        seen: set[str] = set()  # a priority set back to an earlier value has two live entries
        while frontier:
            (neg_priority, seq, job_id), i = heapq.heappop(frontier)
            for child in (2 * i + 1, 2 * i + 2):
                if child < len(heap):
                    heapq.heappush(frontier, (heap[child], child))
            if ready.get(job_id) == (-neg_priority, seq) and job_id not in seen:
                seen.add(job_id)
                if accept is None or accept(job_id):
                    yield job_id

    def is_ready(self, job_id: str) -> bool:
        """Whether the job is queued with its dependencies completed."""
        return job_id in self._ready

    def pop_startable(self, limit: int | None = None) -> str | None:
        """The next job to start, moved to ``running``; ``None`` if none may start now.

        ``limit`` lowers ``max_concurrent`` for this call (e.g. a cluster's current capacity).
        """
        cap = self.max_concurrent if limit is None else min(limit, self.max_concurrent)
        while self._heap and len(self.running) < cap:
            neg_priority, seq, job_id = heapq.heappop(self._heap)
            if self._ready.get(job_id) != (-neg_priority, seq):
                continue
            del self._ready[job_id]
            del self._order[job_id]
            self.running.add(job_id)
            return job_id
        return None

    def release(self, job_id: str) -> None:
        """Free the concurrency slot of a job whose work has stopped."""
        self.running.discard(job_id)

    def remove_queued(self, job_id: str) -> None:
        """Forget a queued job (cancelled or skipped) without touching its dependents."""
        self._order.pop(job_id, None)
        if self._ready.pop(job_id, None) is not None:
            self._drop_stale()  # (a batch cancel: else the next pop would skip them all at once)
        for dep in self._unmet.pop(job_id, ()):
            waiting = self._dependents.get(dep)
            if waiting is not None:
                waiting.discard(job_id)
                if not waiting:
                    del self._dependents[dep]

    def _seq(self, job_id: str) -> int:
        return self._order.get(job_id, (0, 0))[1]

    def finish(self, job_id: str, completed: bool, release_slot: bool = True) -> tuple[list[str], list[str]]:
        """Record the end of a job (running or queued).

        With ``release_slot=False`` a running job keeps its concurrency slot until
        :meth:`release` (its work is still stopping).

        Returns ``(ready, blocked)``: jobs that became ready because it completed, or (if it did
        not complete) every queued job that depends on it directly or not, which can never run
        and should be ended by the caller (they are already removed here).
        """
        if release_slot:
            self.running.discard(job_id)
        self.remove_queued(job_id)
        dependents = self._dependents.pop(job_id, set())
        if completed:
            ready = []
            for dep_id in sorted(dependents, key=self._seq):
                unmet = self._unmet.get(dep_id)
                if unmet is None:
                    continue
                unmet.discard(job_id)
                if not unmet:
                    del self._unmet[dep_id]
                    self._push(dep_id)
                    ready.append(dep_id)
            return ready, []
        blocked: list[str] = []
        todo = sorted(dependents, key=self._seq)
        while todo:
            dep_id = todo.pop(0)
            if dep_id not in self._order:
                continue
            blocked.append(dep_id)
            self.remove_queued(dep_id)
            todo.extend(sorted(self._dependents.pop(dep_id, set()), key=self._seq))
        return [], blocked
