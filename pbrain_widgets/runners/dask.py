"""Run jobs' work on a Dask cluster while the engine, its events and the widgets stay in the kernel.

``Engine(executor=DaskExecutor(client))`` sends each job's runner (pickled with cloudpickle) to a
Dask worker as one task; any runner works (simulated, commands, Python functions, p-brain
stages). The design:

- **Placement.** The executor places each job on a worker itself: the worker with the most free
  threads, as last seen by polling the scheduler (``identity``) every ``poll_interval`` seconds.
  The task is restricted to that worker (``workers=[address]``, ``allow_other_workers=False``,
  ``retries=0``), so Dask never moves or re-runs it elsewhere; the kernel always knows where a
  job runs. :attr:`DaskExecutor.capacity` is the cluster's total worker threads; the engine runs
  at most ``min(max_concurrent, capacity)`` jobs, and is woken when workers join.
- **Worker side** (:mod:`pbrain_widgets.runners.dask_worker`): the task hands the runner to the
  worker's job loop (one asyncio loop per worker process) with a :class:`JobContext` whose
  reports are batched every few milliseconds and sent as Dask events on this executor's topic.
- **Live reports.** The client is subscribed to that topic; each batch is replayed on the
  engine's loop through the job's own context (``log``, ``progress``; ``track_process`` when the
  worker shares the kernel's host, so CPU and memory are sampled). The last batch carries how the
  job ended, so the job ends only after all its reports (the engine's completion line is always
  the last one) and without fetching the task's result; should that batch be late, the task's
  result (which counts the batches) is the fallback.
- **Errors.** :class:`JobFailed` and :class:`NeedsUserAction` raised on the worker are raised
  again in the kernel (so a stage can become ``waiting``); any other exception is raised again
  as itself (or as :class:`RemoteJobError` if it cannot be unpickled here) with the worker's
  traceback as its cause, which is what lands in the job's log.
- **Cancel.** Cancelling the job runs :func:`~pbrain_widgets.runners.dask_worker.stop_job` on
  its worker (``Client.run``): the runner's task is cancelled there, its own cancel path stops
  its processes, and the kernel waits (up to ``stop_timeout``) until it has; then the Dask
  future is cancelled. A job stopped before it started never starts.
- **Worker death.** When a poll no longer lists the worker of a running job, the job fails with
  ``worker tcp://... died while running this job`` (retry runs it again) and its task is
  cancelled. Processes a job started on the worker die with it (their guard's lifeline is the
  worker process). If the scheduler cannot be reached for ``scheduler_timeout`` seconds, every
  running job fails the same way.

The client may be asynchronous (on the kernel's loop) or synchronous (``Client(cluster)`` in a
notebook cell, whose loop runs on its own thread): all Dask calls are made on the client's loop
and every report is handed to the engine on the engine's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import inspect
import logging
import pickle
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import cloudpickle
from distributed import Client, Future
from distributed.deploy import Cluster

from ..engine.executor import Executor
from ..engine.models import Job
from ..engine.runner import JobContext, Runner
from ..errors import InvalidArgumentError, JobFailed, NeedsUserAction, PbrainWidgetsError
from .dask_worker import Ending, Outcome, RemoteJob, close_runners, run_job, stop_job

log = logging.getLogger("pbrain_widgets.runners.dask")

_TAIL_SECONDS = 5.0
"""How long a finished job waits for report batches still on their way."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised on a Dask worker (the cause of the one raised here)."""

    def __str__(self) -> str:
        return str(self.args[0])


class RemoteJobError(PbrainWidgetsError):
    """An exception raised on a worker that cannot be rebuilt in the kernel (its class is not
    importable here); the message is ``Type: text`` of the original."""


@dataclass(eq=False)
class _Run:
    """One job in flight on the cluster (touched only on the client's loop, except ``ctx``)."""

    ctx: JobContext
    engine_loop: asyncio.AbstractEventLoop
    worker: str | None = None
    future: Future | None = None
    received: int = 0
    expected: int | None = None
    lost: str | None = None
    lost_event: asyncio.Event = field(default_factory=asyncio.Event)
    all_in: asyncio.Event = field(default_factory=asyncio.Event)
    outcome: Outcome | None = None
    """How the job ended, from its last report."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentError(f"{name} must be a number of seconds > 0, got {value!r}")
    return float(value)


class DaskExecutor(Executor):
    """Runs each job's runner on a worker of a Dask cluster (see the module docstring).

    Args:
        client: a ``distributed.Client`` (synchronous or ``asynchronous=True``), a cluster
            object (``LocalCluster``, ``dask_jobqueue.SLURMCluster``...) or a scheduler address
            such as ``"tcp://10.0.0.5:8786"``. For a cluster or an address the executor makes
            its own client and closes it on :meth:`close`; a client you pass stays yours.
        poll_interval: seconds between two looks at the cluster's workers (capacity, and
            detection of a worker that died).
        stop_timeout: seconds a cancel waits for the job's work to stop on its worker.
        scheduler_timeout: seconds without reaching the scheduler after which running jobs fail.

    Worker processes need pbrain-widgets (and whatever the runners import) installed.
    """

    def __init__(
        self,
        client: Client | Cluster | str,
        *,
        poll_interval: float = 1.0,
        stop_timeout: float = 15.0,
        scheduler_timeout: float = 60.0,
    ) -> None:
        self.poll_interval = _positive(poll_interval, "poll_interval")
        self.stop_timeout = _positive(stop_timeout, "stop_timeout")
        self.scheduler_timeout = _positive(scheduler_timeout, "scheduler_timeout")
        if isinstance(client, Client):
            self.client, self._owns_client = client, False
        elif isinstance(client, (Cluster, str)):
            if isinstance(client, str) and not client.strip():
                raise InvalidArgumentError(
                    "the scheduler address must be a non-empty string like 'tcp://host:8786'"
                )
            self.client, self._owns_client = Client(client), True
        else:
            raise InvalidArgumentError(
                f"client must be a distributed.Client, a Dask cluster or a scheduler address, got {client!r}"
            )
        if self.client.status in ("closing", "closed"):
            raise InvalidArgumentError(f"the Dask client {self.client!r} is closed")
        io_loop = self.client.loop
        assert io_loop is not None  # a running client always has its loop
        self._client_loop: asyncio.AbstractEventLoop = io_loop.asyncio_loop  # type: ignore[attr-defined]
        self._topic = f"pbrain-widgets-{uuid.uuid4().hex}"
        self._host = socket.gethostname()
        self._workers: dict[str, int] = {}
        self._capacity = 0
        self._busy: Counter[str] = Counter()
        self._runs: dict[str, _Run] = {}
        self._slots = asyncio.Event()
        self._wake: Callable[[], None] | None = None
        self._engine_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._shutdown: concurrent.futures.Future[None] | asyncio.Future[None] | None = None
        self.client.subscribe_topic(self._topic, self._on_event)
        self._watcher = asyncio.run_coroutine_threadsafe(self._watch(), self._client_loop)

    # -- engine seam -------------------------------------------------------------------------

    def attach(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    @property
    def capacity(self) -> int:
        """Worker threads in the cluster now (0 until the first look at the cluster)."""
        with contextlib.suppress(RuntimeError):
            self._engine_loop = asyncio.get_running_loop()  # the engine asks from its own loop
        return self._capacity

    @property
    def workers(self) -> dict[str, int]:
        """The cluster's workers as last seen: address -> threads."""
        return dict(self._workers)

    async def run(self, runner: Runner, ctx: JobContext) -> None:
        if self._closed:
            raise JobFailed("the Dask executor is closed; create a new engine and executor")
        remote = self._remote_job(runner, ctx)
        run = _Run(ctx, asyncio.get_running_loop())
        work = self._on_client_loop(self._run_remote(run, remote))
        try:
            outcome = await asyncio.shield(work)
        except asyncio.CancelledError:
            if not work.done():
                if not self._closed:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self._on_client_loop(self._stop(run)), self.stop_timeout + 5)
                work.cancel()
            elif work.cancelled() and not self._closed:
                raise JobFailed("the Dask client was closed while this job was running") from None
            raise
        self._raise_for(outcome, run)

    def close(self) -> None:
        """Stop every job's work still running on the cluster, close the runners kept on the
        workers for this executor and, if the executor made the client, close it."""
        if self._closed:
            return
        self._closed = True
        self._watcher.cancel()
        if self.client.status in ("running", "connecting") and self._client_loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self._client_loop:
                self._shutdown = asyncio.ensure_future(self._close_remote())
            else:
                self._shutdown = asyncio.run_coroutine_threadsafe(self._close_remote(), self._client_loop)
                try:
                    self._shutdown.result(self.stop_timeout + 10)
                except Exception:
                    log.exception("stopping this executor's jobs on the Dask cluster failed")
        if self._owns_client:
            self.client.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._workers)} workers, {self._capacity} threads"
        return f"<DaskExecutor {self.client.scheduler.address} {state}>"

    # -- kernel side -------------------------------------------------------------------------

    def _remote_job(self, runner: Runner, ctx: JobContext) -> RemoteJob:
        try:
            data = cloudpickle.dumps(runner)
        except Exception as exc:
            raise JobFailed(
                f"{runner!r} cannot be sent to a Dask worker: "
                f"it does not pickle ({type(exc).__name__}: {exc})"
            ) from None
        job = Job(
            id=ctx.job_id,
            project_id=ctx.project.id,
            subject_id=ctx.subject.id,
            stage_id=ctx.stage.id,
            attempt=ctx.attempt,
        )
        return RemoteJob(
            topic=self._topic,
            job=job,
            project=ctx.project,
            subject=ctx.subject,
            stage=dataclasses.replace(ctx.stage, runner=None),
            runner_key=hashlib.blake2b(data, digest_size=16).hexdigest(),
            runner_bytes=data,
        )

    def _on_client_loop(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        """Run ``coro`` on the client's loop; a future to await on the calling loop."""
        if asyncio.get_running_loop() is self._client_loop:
            return asyncio.ensure_future(coro)
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._client_loop))

    def _raise_for(self, outcome: Outcome, run: _Run) -> None:
        if outcome.kind is Ending.DONE:
            return
        if outcome.kind is Ending.FAILED:
            raise JobFailed(outcome.message)
        if outcome.kind is Ending.NEEDS_USER_ACTION:
            raise NeedsUserAction(outcome.message)
        if outcome.kind is Ending.STOPPED:
            raise JobFailed(f"the job's work was stopped on worker {run.worker}")
        exc: BaseException = RemoteJobError(outcome.message)
        if outcome.exception is not None:
            with contextlib.suppress(Exception):
                exc = pickle.loads(outcome.exception)
        raise exc from RemoteTraceback(f"on Dask worker {run.worker}:\n{outcome.traceback}")

    def _deliver(self, run: _Run, items: list[list[Any]]) -> None:
        ctx = run.ctx
        for item in items:
            kind = item[0]
            if kind == "log":
                ctx.log(item[1], item[2])
            elif kind == "progress":
                ctx.progress(item[1], item[2], item[3])
            elif kind == "output":
                ctx.output(**item[1])
            elif kind == "pid":
                # a pid on another host means nothing here
                ctx.track_process(item[1] if item[2] == self._host else None)

    # -- client loop -------------------------------------------------------------------------

    def _to_engine(self, loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
        if loop is self._client_loop:
            fn(*args)
        else:
            with contextlib.suppress(RuntimeError):  # the engine's loop is closed
                loop.call_soon_threadsafe(fn, *args)

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        message = event[1]
        run = self._runs.get(message["job"])
        if run is None:
            return
        run.received += 1
        items = message["items"]
        end = items[-1] if items[-1][0] == "end" else None
        if end is not None:
            items = items[:-1]
        if items:
            self._to_engine(run.engine_loop, self._deliver, run, items)
        if end is not None:
            run.outcome = Outcome(Ending(end[1]), run.received, end[2], end[3], end[4])
            run.ended.set()
        if run.expected is not None and run.received >= run.expected:
            run.all_in.set()

    async def _watch(self) -> None:
        failing_since: float | None = None
        while True:
            try:
                info = await self.client.scheduler.identity(n_workers=-1)
            except Exception as exc:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since >= self.scheduler_timeout:
                    self._lose_all(
                        f"lost contact with the Dask scheduler for {now - failing_since:.0f} s "
                        f"({type(exc).__name__}: {exc}) while this job was running; retry it to run it again"
                    )
            else:
                failing_since = None
                self._set_workers({addr: int(w.get("nthreads", 0)) for addr, w in info["workers"].items()})
            await asyncio.sleep(self.poll_interval)

    def _set_workers(self, workers: dict[str, int]) -> None:
        grew = sum(workers.values()) > self._capacity
        gone = set(self._workers) - set(workers)
        self._workers = workers
        self._capacity = sum(workers.values())
        for run in self._runs.values():
            if run.worker in gone:
                self._lose(run, f"worker {run.worker} died while running this job; retry it to run it again")
        self._slots.set()
        if grew and self._wake is not None and self._engine_loop is not None:
            self._to_engine(self._engine_loop, self._wake)

    def _lose(self, run: _Run, why: str) -> None:
        if run.lost is None:
            run.lost = why
            run.lost_event.set()

    def _lose_all(self, why: str) -> None:
        for run in self._runs.values():
            self._lose(run, why)

    async def _claim(self) -> str:
        """A worker with a free thread (waits for one)."""
        while True:
            free = [(n - self._busy[a], a) for a, n in self._workers.items() if n > self._busy[a]]
            if free:
                worker = max(free)[1]
                self._busy[worker] += 1
                return worker
            self._slots.clear()
            await self._slots.wait()

    async def _run_remote(self, run: _Run, remote: RemoteJob) -> Outcome:
        worker = await self._claim()
        run.worker = worker
        self._runs[run.ctx.job_id] = run
        result: asyncio.Task[Outcome] | None = None
        try:
            self._to_engine(run.engine_loop, run.ctx.placed_on, worker)
            self._to_engine(run.engine_loop, run.ctx.debug, f"Running on Dask worker {worker}")
            run.future = self.client.submit(
                run_job,
                remote,
                key=f"pbrain-job-{run.ctx.job_id}-{uuid.uuid4().hex[:8]}",
                workers=[worker],
                allow_other_workers=False,
                retries=0,
                pure=False,
            )
            result = asyncio.ensure_future(self._result(run))
            waiters = [asyncio.ensure_future(e.wait()) for e in (run.lost_event, run.ended)]
            try:
                await asyncio.wait({result, *waiters}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if run.outcome is not None:
                return run.outcome
            if not result.done():
                await self._cancel_future(run)
                raise JobFailed(run.lost)
            outcome = result.result()
            run.expected = outcome.batches
            if run.received < outcome.batches:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(run.all_in.wait(), _TAIL_SECONDS)
            return outcome
        finally:
            if result is not None:
                result.cancel()
            self._runs.pop(run.ctx.job_id, None)
            self._busy[worker] -= 1
            if self._busy[worker] <= 0:
                del self._busy[worker]
            self._slots.set()

    async def _result(self, run: _Run) -> Outcome:
        assert run.future is not None
        try:
            return await run.future
        except asyncio.CancelledError:
            if run.future.cancelled():  # cancelled in Dask by someone else, not this coroutine
                raise JobFailed(
                    f"the Dask task of this job was cancelled on the cluster (worker {run.worker})"
                ) from None
            raise
        except Exception as exc:
            raise JobFailed(
                f"the Dask task of this job failed on worker {run.worker}: {type(exc).__name__}: {exc}"
            ) from None

    async def _cancel_future(self, run: _Run) -> None:
        if run.future is not None and not run.future.done():
            with contextlib.suppress(Exception):
                pending = run.future.cancel()
                if inspect.isawaitable(pending):
                    await pending

    async def _stop(self, run: _Run) -> None:
        """Stop the job's work on its worker and wait (bounded) until it has stopped."""
        if run.worker is not None and run.worker in self._workers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.client.run(stop_job, run.ctx.job_id, self.stop_timeout, workers=[run.worker]),
                    self.stop_timeout + 5,
                )
        await self._cancel_future(run)

    async def _close_remote(self) -> None:
        await asyncio.gather(*(self._stop(run) for run in list(self._runs.values())), return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.run(close_runners, self._topic), self.stop_timeout)
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self._topic)
