"""Helpers for runner tests: one-stage projects, process and log checks."""

from __future__ import annotations

import asyncio
import time

import psutil
import pytest

from pbrain_widgets import Pipeline, Stage

ONE_STAGE = Pipeline([Stage("work", "Work")], name="one")


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
