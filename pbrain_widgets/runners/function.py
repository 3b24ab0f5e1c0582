"""A runner that calls a Python function for each job, in a warm worker process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import sys
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.runner import JobContext, Runner
from ..errors import InvalidArgumentError, JobFailed, NeedsUserAction, check_count
from .command import READ_SIZE, existing_subject_dir
from .lines import LineSplitter, report_line
from .process import (
    GRACE_SECONDS,
    ProcessGroup,
    check_threads,
    exit_description,
    job_max_concurrent,
    stop_groups,
    thread_limits,
)
from .worker import _HEADER, END_MARK, frame

if TYPE_CHECKING:
    from ..engine import Engine

log = logging.getLogger("pbrain_widgets.runners")

WORKER = Path(__file__).with_name("worker.py")
_STDERR_TAIL = 10


class _Worker:
    """One worker process (and its process group) and the job it is running, if any."""

    def __init__(self, group: ProcessGroup) -> None:
        self.group = group
        self.loop = asyncio.get_running_loop()  # its pipes are readable on this loop only
        self.ctx: JobContext | None = None
        self.tail: deque[str] = deque(maxlen=_STDERR_TAIL)
        self.refused = ""
        """Why the running job's first refused output was refused (the job fails when it ends)."""
        self._job_output_done = asyncio.Event()
        proc = group.process
        assert proc.stderr is not None
        self._text = asyncio.ensure_future(self._read_text(proc.stderr))

    @classmethod
    async def start(cls, preload: Iterable[str], grace: float, limits: Mapping[str, str]) -> _Worker:
        group = await ProcessGroup.start(
            [sys.executable, str(WORKER), *preload],
            env={**os.environ, **limits, "PYTHONUNBUFFERED": "1"},
            stdin=asyncio.subprocess.PIPE,
            grace=grace,
        )
        return cls(group)

    @property
    def alive(self) -> bool:
        return self.group.process.returncode is None

    async def _read_text(self, stream: asyncio.StreamReader) -> None:
        splitter = LineSplitter()
        held_blank = False
        while chunk := await stream.read(READ_SIZE):
            for line in splitter.feed(chunk):
                if line == END_MARK:
                    held_blank = False
                    self._job_output_done.set()
                    continue
                if held_blank:
                    self._text_line("")
                held_blank = line == ""
                if not held_blank:
                    self._text_line(line)
            await asyncio.sleep(0)  # buffered output is read without a loop turn: give one
            if self.ctx is not None:
                await self.ctx.log_room()  # the output waits in the pipe while the store is behind
        for line in splitter.close():
            self._text_line(line)
        self._job_output_done.set()

    def _text_line(self, line: str) -> None:
        if line.strip():
            self.tail.append(line)
        if self.ctx is None:
            log.info("function worker %d: %s", self.group.pid, line)
            return
        error = report_line(self.ctx, line)
        if error is not None:
            self.refused = self.refused or error

    async def call(self, ctx: JobContext, payload: bytes, log_level: str) -> None:
        """Run one job; return when it completed, raise as the job should fail."""
        proc = self.group.process
        assert proc.stdin is not None and proc.stdout is not None
        subject_dir = existing_subject_dir(ctx, required=False)
        info = {
            "job_id": ctx.job_id,
            "attempt": ctx.attempt,
            "project": ctx.project.name,
            "subject": ctx.subject.name,
            "subject_dir": str(subject_dir) if subject_dir else None,
            "stage": ctx.stage.id,
        }
        self.ctx = ctx
        self.tail.clear()
        self.refused = ""
        self._job_output_done.clear()
        try:
            proc.stdin.write(frame(("run", list(sys.path), os.getcwd(), payload, info, log_level)))
            await proc.stdin.drain()
            while True:
                message = await self._read_frame(proc.stdout)
                kind = message[0]
                if kind == "log":
                    ctx.log(message[1], message[2])
                elif kind == "progress":
                    ctx.progress(message[1], message[2], message[3])
                elif kind == "output":
                    try:
                        ctx.output(**message[1])
                    except InvalidArgumentError as exc:  # the worker goes on: fail when it ends
                        self.refused = self.refused or str(exc)
                        ctx.log("ERROR", f"output refused: {exc}")
                else:
                    break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._job_output_done.wait(), 2.0)
        finally:
            self.ctx = None
        if kind == "done" and self.refused:
            raise JobFailed(f"the job reported a bad output: {self.refused}")
        if kind == "done":
            return
        _, why, summary, trace = message
        if why == "needs_user_action":
            raise NeedsUserAction(summary.partition(": ")[2] or summary)
        if why == "failed":
            raise JobFailed(summary.partition(": ")[2] or summary)
        ctx.log("ERROR", trace.rstrip())
        raise JobFailed(summary)

    async def _read_frame(self, stream: asyncio.StreamReader) -> tuple[Any, ...]:
        try:
            header = await stream.readexactly(_HEADER.size)
            return pickle.loads(await stream.readexactly(_HEADER.unpack(header)[0]))
        except asyncio.IncompleteReadError:
            code = await self.group.wait_exit()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._text), 2.0)
            lines = "\n".join(self.tail)
            raise JobFailed(
                f"the worker process {exit_description(code)}"
                + (f"; last lines of output:\n{lines}" if lines else "")
            ) from None

    async def stop(self, grace: float) -> None:
        await self.group.stop(grace)
        self._text.cancel()
        self.group.release()


class FunctionRunner(Runner):
    """Calls ``fn(ctx, **kwargs)`` for each job in a worker process, never in the kernel.

    Args:
        fn: a module-level function (plain or ``async``) that the worker can import by name;
            a lambda, a nested function or one defined in the notebook itself (``__main__``)
            is refused here, since a worker cannot import it. ``ctx`` is a
            :class:`~pbrain_widgets.runners.worker.TaskContext`: ``ctx.subject``,
            ``ctx.subject_dir``, ``ctx.stage``..., ``ctx.progress(percent, step)``,
            ``ctx.log(level, message)``, ``ctx.output(path, kind=..., label=...)``. Its return
            value is ignored; raising fails the job with the traceback in the log
            (``JobFailed``: just its message; ``NeedsUserAction``: the stage becomes ``waiting``).
        kwargs: keyword arguments passed on each call (picklable).
        preload: modules each worker imports when it starts (e.g. ``("numpy",)``).
        max_idle_workers: warm workers kept between jobs (default: the number of CPUs).
        log_level: the lowest ``logging`` level forwarded from the worker to the job's log.
        grace: seconds between SIGTERM and SIGKILL when a job is cancelled.
        threads: the BLAS / OpenMP threads each worker may use (``OMP_NUM_THREADS``,
            ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``... see
            :data:`~pbrain_widgets.runners.process.THREAD_VARIABLES`). Default (None):
            ``max(1, cores // max_concurrent)``, so that the jobs running at once share the cores
            instead of fighting over them, unless you set any of these variables yourself in the
            kernel's environment. Set when a worker starts: a warm worker keeps its limits.
            On a Dask worker the default leaves the worker's own settings.

    Each worker runs one job at a time, in the subject's source folder if it has one.
    Workers are reused: modules imported by one job are warm for the next. ``logging``
    records, ``print`` output and the output of child processes land in the job's log (text
    output follows the line protocol of :mod:`pbrain_widgets.runners.lines`). Cancelling a
    job kills its worker's whole process group; a new worker replaces it when needed.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        kwargs: Mapping[str, Any] | None = None,
        preload: Iterable[str] = (),
        max_idle_workers: int | None = None,
        log_level: str = "INFO",
        grace: float = GRACE_SECONDS,
        threads: int | None = None,
    ) -> None:
        if not callable(fn):
            raise InvalidArgumentError(f"fn must be a callable, got {fn!r}")
        name = getattr(fn, "__qualname__", repr(fn))
        if "<lambda>" in name or "<locals>" in name:
            raise InvalidArgumentError(
                f"fn {name!r} cannot run in a worker process: define it with def at the top "
                "level of a module (lambdas and nested functions cannot be pickled)"
            )
        if getattr(fn, "__module__", None) == "__main__":
            raise InvalidArgumentError(
                f"fn {name!r} is defined in __main__ (the notebook or script itself), which a "
                "worker process cannot import; move it to a .py module and import it from there"
            )
        self.kwargs = dict(kwargs or {})
        try:
            self._payload = pickle.dumps((fn, self.kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise InvalidArgumentError(f"fn {name!r} and its kwargs must be picklable: {exc}") from None
        level = logging.getLevelName(str(log_level).upper())
        if not isinstance(level, int):
            raise InvalidArgumentError(
                f"unknown log_level {log_level!r}; valid: DEBUG, INFO, WARNING, ERROR, CRITICAL"
            )
        if max_idle_workers is None:
            max_idle_workers = os.cpu_count() or 1
        check_count("max_idle_workers", max_idle_workers)
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or not 0 <= grace <= 60:
            raise InvalidArgumentError(f"grace must be a number of seconds from 0 to 60, got {grace!r}")
        self.fn = fn
        self.preload = tuple(preload)
        self.max_idle_workers = max_idle_workers
        self.log_level = str(log_level).upper()
        self.grace = float(grace)
        self.threads = check_threads(threads)
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self.workers_started = 0
        """How many worker processes this runner has started (warm reuse keeps it low)."""

    async def _checkout(self, max_concurrent: int | None) -> _Worker:
        loop = asyncio.get_running_loop()
        while self._idle:
            worker = self._idle.pop()
            if worker.alive and worker.loop is loop:
                return worker
            if worker.alive:  # its pipes belong to another event loop (another engine)
                stop_groups([worker.group], self.grace)
                worker._text.cancel()
        return await self._start_worker(max_concurrent)

    async def _start_worker(self, max_concurrent: int | None) -> _Worker:
        self.workers_started += 1
        limits = thread_limits(self.threads, max_concurrent, {})
        return await _Worker.start(self.preload, self.grace, limits)

    async def run(self, ctx: JobContext) -> None:
        existing_subject_dir(ctx, required=False)
        worker = await self._checkout(job_max_concurrent(ctx))
        self._busy.add(worker)
        ctx.track_process(worker.group.pid)
        reusable = False
        try:
            await worker.call(ctx, self._payload, self.log_level)
            reusable = True
        except (JobFailed, NeedsUserAction):
            reusable = worker.alive
            raise
        except asyncio.CancelledError:
            await asyncio.shield(worker.stop(self.grace))
            raise
        finally:
            self._busy.discard(worker)
            if reusable and len(self._idle) < self.max_idle_workers:
                self._idle.append(worker)
            elif worker.alive:
                await asyncio.shield(worker.stop(self.grace))

    async def warm_up(self, engine: Engine, count: int = 1) -> None:
        """Start ``count`` idle workers now on ``engine``'s thread (where its jobs run), so the
        first jobs do not wait for them."""
        await asyncio.wrap_future(engine.submit(self._warm_up(count, engine.max_concurrent)))

    async def _warm_up(self, count: int, max_concurrent: int) -> None:
        for _ in range(max(0, min(count, self.max_idle_workers) - len(self._idle))):
            self._idle.append(await self._start_worker(max_concurrent))

    def __getstate__(self) -> dict[str, object]:
        """Picklable settings only (e.g. to run on a Dask worker): warm workers stay here."""
        return {**self.__dict__, "_idle": [], "_busy": set(), "workers_started": 0}

    def close(self) -> None:
        """Stop every worker process, idle or busy (blocking, at most ~2 s)."""
        workers = [*self._idle, *self._busy]
        self._idle.clear()
        self._busy.clear()
        stop_groups([w.group for w in workers], self.grace)
        for worker in workers:
            worker._text.cancel()

    def __repr__(self) -> str:
        return f"FunctionRunner({getattr(self.fn, '__qualname__', self.fn)!r})"
