"""The worker side of :class:`~pbrain_widgets.runners.dask.DaskExecutor`.

:func:`run_job` is the Dask task of one job. It runs in one of the worker's task threads and
hands the job's runner to the worker's *job loop*: one asyncio event loop per worker process, on
a thread of its own, where every job of that worker runs (as they all run on the kernel's loop
with the local executor). Runners are kept per executor and per pickled configuration, so a
:class:`~pbrain_widgets.runners.function.FunctionRunner` keeps its warm processes from one job
to the next on the same worker.

The runner reports through a real :class:`~pbrain_widgets.engine.runner.JobContext` whose
``log``, ``progress`` and ``track_process`` calls are batched (at most every
:data:`FLUSH_SECONDS`) and sent as Dask events (``Worker.log_event``) on the executor's topic;
the kernel's client is subscribed to it. The last batch ends with how the job ended, so the
kernel learns it after every report of the job, without fetching the task's result; the result
(an :class:`Outcome` with the number of batches sent) is the fallback.

:func:`stop_job` (run on the worker with ``Client.run``) cancels a job's asyncio task on the job
loop, so the runner's own cancel path stops its processes, and waits until it has; a job stopped
before it started is remembered and never starts. :func:`close_runners` closes the runners kept
for an executor. A job whose task the scheduler no longer wants (its client is gone: the
kernel died or was restarted) is stopped the same way within :data:`WANTED_POLL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import pickle
import socket
import threading
import traceback
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import cloudpickle
from distributed import get_worker

from ..engine.models import Job, LogLevel, Output, Project, Subject
from ..engine.pipeline import Stage
from ..engine.runner import OUTPUT_FIELDS, JobContext, Runner
from ..errors import JobFailed, NeedsUserAction

FLUSH_SECONDS = 0.01
"""Longest time a report waits on the worker before it is sent to the kernel."""
MAX_BATCH = 500
"""A batch of reports is sent at once when it holds this many."""
WANTED_POLL_SECONDS = 1.0
"""How often a running job checks that the scheduler still wants it: when the kernel's client
goes away (the kernel died), Dask releases the task but cannot stop its thread; the job's work
is stopped then, as the lifeline of local jobs does."""
_STOP_SECONDS = 15.0
_KEPT_RUNNERS = 32
_KEPT_STOPPED = 10000


@dataclass(frozen=True)
class RemoteJob:
    """Everything a worker needs to run one job (pickled into the Dask task)."""

    topic: str
    """The executor's event topic; also the name of the group of runners kept for it."""
    job: Job
    project: Project
    subject: Subject
    stage: Stage
    runner_key: str
    """Digest of ``runner_bytes``: a worker reuses the runner it already has for that key."""
    runner_bytes: bytes


class Ending(str, enum.Enum):
    """How a job's runner ended on the worker."""

    DONE = "done"
    FAILED = "failed"
    """:class:`JobFailed`"""
    NEEDS_USER_ACTION = "needs_user_action"
    EXCEPTION = "exception"
    """Any other exception."""
    STOPPED = "stopped"
    """Cancelled from the kernel (or before it started)."""


@dataclass(frozen=True)
class Outcome:
    """How a job ended on the worker.

    For :attr:`Ending.EXCEPTION`, ``message`` is ``Type: text``, ``traceback`` the formatted
    traceback and ``exception`` the pickled exception (None when it does not pickle).
    """

    kind: Ending
    batches: int
    message: str = ""
    traceback: str = ""
    exception: bytes | None = None


class _Reporter:
    """Batches a job's reports and sends them to the kernel as Dask events."""

    def __init__(self, topic: str, job_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self._worker = get_worker()
        self._topic = topic
        self._job_id = job_id
        self._loop = loop
        self._lock = threading.Lock()
        self._items: list[list[Any]] = []
        self._armed = False
        self.batches = 0

    def add(self, item: list[Any]) -> None:
        with self._lock:
            self._items.append(item)
            full = len(self._items) >= MAX_BATCH
            arm = not full and not self._armed
            if arm:
                self._armed = True
        if full:
            self.flush()
        elif arm:
            self._loop.call_soon_threadsafe(self._loop.call_later, FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        # Sent under the lock: batches leave in the order they are numbered.
        with self._lock:
            self._armed = False
            if not self._items:
                return
            items, self._items = self._items, []
            self._worker.log_event(self._topic, {"job": self._job_id, "n": self.batches, "items": items})
            self.batches += 1

    def context(self, remote: RemoteJob) -> JobContext:
        host = socket.gethostname()

        def emit_log(_job_id: str, level: LogLevel, message: str) -> None:
            self.add(["log", level.value, message])

        def emit_progress(_job_id: str, percent: float, step: str | None, eta: float | None) -> None:
            self.add(["progress", percent, step, eta])

        def track_pid(_job_id: str, pid: int | None) -> None:
            self.add(["pid", pid, host])

        def emit_output(out: Output) -> None:
            self.add(["output", {k: out.to_dict()[k] for k in OUTPUT_FIELDS}])

        return JobContext(
            remote.job,
            remote.project,
            remote.subject,
            remote.stage,
            emit_log=emit_log,
            emit_progress=emit_progress,
            track_pid=track_pid,
            emit_output=emit_output,
        )


class _JobHost:
    """The job loop of this worker process, its running jobs and the runners it keeps."""

    _instance: _JobHost | None = None
    _instance_lock = threading.Lock()

    @classmethod
    def get(cls) -> _JobHost:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopped: deque[str] = deque(maxlen=_KEPT_STOPPED)
        self._runners: OrderedDict[tuple[str, str], Runner] = OrderedDict()
        self._runners_lock = threading.Lock()
        threading.Thread(target=self.loop.run_forever, name="pbrain-widgets-jobs", daemon=True).start()

    def runner(self, remote: RemoteJob) -> Runner:
        key = (remote.topic, remote.runner_key)
        with self._runners_lock:
            runner = self._runners.get(key)
            if runner is not None:
                self._runners.move_to_end(key)
                return runner
            runner = pickle.loads(remote.runner_bytes)
            self._runners[key] = runner
            evicted = self._runners.popitem(last=False)[1] if len(self._runners) > _KEPT_RUNNERS else None
        if evicted is not None:
            evicted.close()
        return runner

    def start(self, job_id: str, runner: Runner, ctx: JobContext) -> concurrent.futures.Future[None]:
        """Run ``runner`` for ``ctx`` on the job loop; the future ends as the job does."""
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def launch() -> None:
            if job_id in self._stopped:
                done.cancel()
                return
            task = self.loop.create_task(runner.run(ctx), name=f"pbrain-job-{job_id}")
            self._tasks[job_id] = task
            task.add_done_callback(lambda t: self._finished(job_id, t, done))

        self.loop.call_soon_threadsafe(launch)
        return done

    def _finished(self, job_id: str, task: asyncio.Task[None], done: concurrent.futures.Future[None]) -> None:
        self._tasks.pop(job_id, None)
        if task.cancelled():
            done.cancel()
        elif task.exception() is not None:
            done.set_exception(task.exception())
        else:
            done.set_result(None)

    async def stop(self, job_id: str, timeout: float) -> bool:
        """Cancel the job (or keep it from starting); True once its task has ended."""
        self._stopped.append(job_id)
        task = self._tasks.get(job_id)
        if task is None:
            return True
        task.cancel()
        finished, _ = await asyncio.wait({task}, timeout=timeout)
        return bool(finished)

    def close_runners(self, topic: str) -> int:
        with self._runners_lock:
            keys = [key for key in self._runners if key[0] == topic]
            runners = [self._runners.pop(key) for key in keys]
        for runner in runners:
            runner.close()
        return len(runners)


def run_job(remote: RemoteJob) -> Outcome:
    """The Dask task of one job: run its runner on this worker and say how it ended."""
    host = _JobHost.get()
    worker = get_worker()
    key = worker.get_current_task()
    reporter = _Reporter(remote.topic, remote.job.id, host.loop)
    try:
        runner = host.runner(remote)
        done = host.start(remote.job.id, runner, reporter.context(remote))
        stopping = False
        while True:
            try:
                done.result(timeout=WANTED_POLL_SECONDS)
                break
            except concurrent.futures.TimeoutError:
                if not stopping and not _wanted(worker, key):
                    stopping = True
                    asyncio.run_coroutine_threadsafe(host.stop(remote.job.id, _STOP_SECONDS), host.loop)
    except concurrent.futures.CancelledError:
        outcome = Outcome(Ending.STOPPED, 0)
    except NeedsUserAction as exc:
        outcome = Outcome(Ending.NEEDS_USER_ACTION, 0, str(exc))
    except JobFailed as exc:
        outcome = Outcome(Ending.FAILED, 0, str(exc))
    except BaseException as exc:
        outcome = Outcome(
            Ending.EXCEPTION,
            0,
            f"{type(exc).__name__}: {exc}",
            "".join(traceback.format_exception(exc)).rstrip(),
            _pickled(exc),
        )
    else:
        outcome = Outcome(Ending.DONE, 0)
    # The kernel takes the end of the job from this last report: no need to fetch the result.
    reporter.add(["end", outcome.kind.value, outcome.message, outcome.traceback, outcome.exception])
    reporter.flush()
    return Outcome(outcome.kind, reporter.batches, outcome.message, outcome.traceback, outcome.exception)


def _wanted(worker: Any, key: Any) -> bool:
    """Whether the scheduler still wants this task (no longer once its client has gone)."""
    task = worker.state.tasks.get(key)
    return task is not None and task.state != "cancelled"


def _pickled(exc: BaseException) -> bytes | None:
    try:
        data = cloudpickle.dumps(exc)
        pickle.loads(data)
    except Exception:
        return None
    return data


async def stop_job(job_id: str, timeout: float) -> bool:
    """Run on a worker by ``Client.run``: stop the job's work there (see the module docstring)."""
    host = _JobHost.get()
    future = asyncio.run_coroutine_threadsafe(host.stop(job_id, timeout), host.loop)
    with contextlib.suppress(asyncio.TimeoutError):
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout + 1)
    return False


def close_runners(topic: str) -> int:
    """Run on a worker by ``Client.run``: close the runners kept for the executor of ``topic``."""
    return _JobHost.get().close_runners(topic)
