"""Waiting for jobs: futures that resolve when chosen jobs (or all active ones) are terminal.

The futures are :class:`concurrent.futures.Future` objects, resolved on the engine's thread, so
that a caller can wait for them from any thread (blocking) or any event loop (wrapped).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable


class _Waiter:
    __slots__ = ("future", "remaining")

    def __init__(self, remaining: set[str] | None) -> None:
        self.future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.remaining = remaining


class Waiters:
    """Pending waits of one engine."""

    def __init__(self) -> None:
        self._waiters: list[_Waiter] = []

    def add(self, remaining: Iterable[str] | None, nothing_active: bool) -> concurrent.futures.Future[None]:
        """A future resolved once every job of ``remaining`` ended (``None``: once no job is
        active). Resolved at once when there is nothing to wait for."""
        waiter = _Waiter(None if remaining is None else set(remaining))
        done = nothing_active if waiter.remaining is None else not waiter.remaining
        if done:
            waiter.future.set_result(None)
        else:
            self._waiters.append(waiter)
        return waiter.future

    def discard(self, future: concurrent.futures.Future[None]) -> None:
        """Forget a wait that timed out or was abandoned."""
        self._waiters = [w for w in self._waiters if w.future is not future]

    def job_ended(self, job_id: str, nothing_active: bool) -> None:
        if not self._waiters:
            return
        for waiter in list(self._waiters):
            if waiter.remaining is None:
                done = nothing_active
            else:
                waiter.remaining.discard(job_id)
                done = not waiter.remaining
            if done:
                self._waiters.remove(waiter)
                if not waiter.future.done():
                    waiter.future.set_result(None)

    def release_all(self) -> None:
        """The engine closed: every pending wait ends."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_result(None)
