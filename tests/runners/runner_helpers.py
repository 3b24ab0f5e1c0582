"""Helpers for runner tests: one-stage projects, process and log checks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import statistics
import time

import psutil
import pytest

from pbrain_widgets import Pipeline, Stage

ONE_STAGE = Pipeline([Stage("work", "Work")], name="one")


class LoopLag:
    """Measures how late a 10 ms ticker on an engine's event loop wakes up (``async with``).

    A busy machine shows as many short lags, a loop blocked by the work (a process's output
    read synchronously, say) as one stall as long as the work: tests bound the median lag, and
    the worst one well below the length of the work.
    """

    def __init__(self, engine) -> None:
        self.lags: list[float] = []
        self._engine = engine
        self._future: concurrent.futures.Future[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            self.lags.append(time.monotonic() - before - 0.01)

    async def __aenter__(self) -> LoopLag:
        self._future = self._engine.submit(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._future is not None
        self._future.cancel()

    @property
    def median(self) -> float:
        return statistics.median(self.lags)

    @property
    def worst(self) -> float:
        return max(self.lags)


def project(engine, subjects=("s1",), pipeline=ONE_STAGE):
    """A project with the given subjects (names or dicts); returns (project, subjects)."""
    p = engine.create_project(f"p{len(engine.get_projects())}", pipeline)
    return p, engine.add_subjects(p.id, list(subjects))


def alive(pids) -> list[int]:
    """The pids among ``pids`` that are still running (zombies count as gone)."""
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


async def wait_gone(pids, timeout: float) -> float:
    """Seconds until every pid is gone; fails the test after ``timeout``."""
    start = time.monotonic()
    while alive(pids):
        if time.monotonic() - start > timeout:
            pytest.fail(f"processes still running after {timeout} s: {alive(pids)}")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def wait_for_log(engine, job_id: str, text: str, timeout: float = 20.0):
    """The first log line of the job that contains ``text`` (polls the engine)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for entry in engine.get_logs(job_id):
            if text in entry.message:
                return entry
        await asyncio.sleep(0.02)
    pytest.fail(f"no log line containing {text!r}: {[e.message for e in engine.get_logs(job_id)]}")


def pids_in(message: str) -> list[int]:
    return [int(x) for x in message.split(":", 1)[1].split()]
