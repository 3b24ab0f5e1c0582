"""Runners and functions that the Dask executor tests send to Dask workers."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from distributed import get_worker

from pbrain_widgets import JobFailed, NeedsUserAction
from pbrain_widgets.engine.runner import JobContext, Runner


class WhereRunner(Runner):
    """Says where it runs (worker address and pid), records each call in ``calls_dir``, then
    sleeps ``seconds`` on the first attempt only (a retry completes at once); with ``until``,
    the sleep ends early once that file exists."""

    def __init__(self, calls_dir: str | None = None, seconds: float = 0.0, until: str | None = None) -> None:
        self.calls_dir = calls_dir
        self.seconds = seconds
        self.until = until

    async def run(self, ctx: JobContext) -> None:
        ctx.info(f"worker {get_worker().address} pid {os.getpid()}")
        if self.calls_dir is not None:
            Path(self.calls_dir, f"{ctx.job_id}-{ctx.attempt}-{os.getpid()}").touch()
        if ctx.attempt == 1 and self.seconds:
            ctx.progress(10, "sleeping")
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline and not (self.until and os.path.exists(self.until)):
                await asyncio.sleep(min(0.05, self.seconds))


class TickRunner(Runner):
    """Logs ``tick <i> <send time>`` and reports progress ``ticks`` times, ``interval`` apart."""

    def __init__(self, ticks: int = 5, interval: float = 0.2) -> None:
        self.ticks = ticks
        self.interval = interval

    async def run(self, ctx: JobContext) -> None:
        for i in range(self.ticks):
            ctx.progress(i / self.ticks * 100, f"tick {i}")
            ctx.info(f"tick {i} {time.time():.6f}")
            await asyncio.sleep(self.interval)


class BurstRunner(Runner):
    """Logs ``lines`` lines as fast as it can, then completes."""

    def __init__(self, lines: int) -> None:
        self.lines = lines

    async def run(self, ctx: JobContext) -> None:
        for i in range(self.lines):
            ctx.info(f"line {i}")


class FailingRunner(Runner):
    """Fails the way ``kind`` says: ``failed``, ``user_action``, ``exception`` or ``local_class``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def run(self, ctx: JobContext) -> None:
        ctx.info("about to fail")
        remote_failure_site(self.kind)


class WorkerOnlyError(Exception):
    """An exception whose pickle cannot be loaded in the kernel (see ``__reduce__``)."""

    def __reduce__(self):
        return (_missing_on_kernel, (str(self),))


def _missing_on_kernel(message: str) -> WorkerOnlyError:
    if not _on_worker():
        raise ImportError("this exception only exists on Dask workers")
    return WorkerOnlyError(message)


def _on_worker() -> bool:
    try:
        get_worker()
    except ValueError:
        return False
    return True


def remote_failure_site(kind: str) -> None:
    if kind == "failed":
        raise JobFailed("the input volume is empty")
    if kind == "user_action":
        raise NeedsUserAction("draw the arterial ROI")
    if kind == "local_class":
        raise WorkerOnlyError("raised on the worker")
    raise ValueError(f"bad value on worker pid {os.getpid()}")


class LockedRunner(Runner):
    """Holds a lock, so it cannot be pickled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    async def run(self, ctx: JobContext) -> None:
        ctx.info("never runs on a worker")


class OutputRunner(Runner):
    """Writes a small picture in the subject's folder on the worker and reports it, a value
    with its unit, a QC verdict and the worker's pid."""

    async def run(self, ctx: JobContext) -> None:
        assert ctx.subject_dir is not None
        picture = Path(ctx.subject_dir, "qc", "montage.png")
        picture.parent.mkdir(exist_ok=True)
        picture.write_bytes(b"\x89PNG\r\n\x1a\n")
        ctx.output("qc/montage.png", label="montage", group="qc")
        ctx.output(kind="value", label="voxels fitted", value=15729, unit="voxels")
        ctx.output(kind="value", label="worker pid", value=os.getpid())
        ctx.output(kind="qc", label="verdict", value="warn")
