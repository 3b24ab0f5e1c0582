"""The engine: projects, subjects and jobs, run as asyncio tasks on the engine's own thread.

One job runs one pipeline stage for one subject. The engine queues jobs with their dependency
jobs, starts them as the scheduler allows, records everything in its store and tells listeners
what changed.

Threads: each engine runs an event loop on a thread of its own (:mod:`.loop_thread`), started by
``Engine()`` and stopped by :meth:`Engine.close`. Jobs, process pipes, store writes, resource
sampling and the widgets' flushes all run there, so a notebook cell that blocks the kernel's
main thread does not block them. Every public method may be called from any thread: the call is
handed to the engine's thread and its result handed back. Listeners (``on_job_update``...) are
called on the engine's thread. After ``close()`` the engine is read-only and its queries run on
the caller's thread.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import dataclasses
import functools
import itertools
import logging
import operator
import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Coroutine, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from ..errors import (
    EngineClosedError,
    InvalidArgumentError,
    InvalidTransitionError,
    JobFailed,
    NeedsUserAction,
    PbrainWidgetsError,
    UnknownJobError,
    UnknownStageError,
    UnknownTemplateError,
    check_count,
)
from . import analytics, eta, history, qc
from .batch import BatchResult, PriorityResult
from .catalog import Catalog, new_id, subject_copy
from .events import Listeners, Unsubscribe
from .executor import Executor, LocalExecutor
from .job_index import JobIndex
from .logs import JobLogs
from .long_lived import LongLivedRecords
from .loop_thread import SCAN_STEP, LoopThread, drive, drive_in_slices
from .models import (
    ACTIVE_JOB_STATUSES,
    LOG_TAIL_LINES,
    MAX_STEP_CHARS,
    MAX_STEPS,
    Job,
    JobStatus,
    LogEntry,
    LogLevel,
    Output,
    Project,
    QcEntry,
    StageStatus,
    StatusUpdate,
    Subject,
)
from .newest_jobs import NewestJobs
from .pipeline import STUDIO_PIPELINE, Pipeline
from .recovery import recover_interrupted
from .resources import ResourceSampler
from .runner import JobContext, Runner
from .runs import Runs, RunSummary
from .scheduler import Scheduler, check_max_concurrent, check_priority
from .simulated import SimulatedRunner
from .stale import mark_downstream_stale
from .store import Store, default_db_path
from .templates import RunTemplate, make_template, template_from_dict
from .waiting import Waiters

log = logging.getLogger("pbrain_widgets.engine")

P = ParamSpec("P")
R = TypeVar("R")

_CLOSE_SECONDS = 4.0
_JOB_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(Job))
_CLOSE_WEDGED_SECONDS = 120.0
_open_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


@atexit.register
def _close_open_engines() -> None:
    for engine in list(_open_engines):
        with contextlib.suppress(Exception):
            engine.close()


def _not_queued(job: Job) -> str:
    return f"is {job.status.value}; only a queued job's priority can change"


def _priority_moves(priorities: Mapping[str, int] | Iterable[tuple[str, int]]) -> dict[str, int]:
    """Job id -> priority, every priority checked (the caller's thread does it, before any)."""
    try:
        if isinstance(priorities, (str, bytes)):
            raise TypeError
        pairs = iter(priorities.items() if isinstance(priorities, Mapping) else priorities)
    except TypeError:
        raise InvalidArgumentError(
            f"priorities are a mapping of job id -> priority or (job_id, priority) pairs, got {priorities!r}"
        ) from None
    moves: dict[str, int] = {}
    for pair in pairs:
        try:
            job_id, priority = (None, None) if isinstance(pair, (str, bytes)) else pair
            hash(job_id)
        except (TypeError, ValueError):  # not a pair, or an unhashable id
            job_id = None
        if job_id is None:
            raise InvalidArgumentError(f"a priority is a (job_id, priority) pair, got {pair!r}")
        moves[job_id] = check_priority(priority, job_id)
    return moves


def on_engine_thread(method: Callable[Concatenate[Engine, P], R]) -> Callable[Concatenate[Engine, P], R]:
    """Run a public method on the engine's thread, whichever thread calls it."""

    @functools.wraps(method)
    def call(self: Engine, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._thread.call(functools.partial(method, self, *args, **kwargs))

    return call


class Engine:
    """Runs pipeline jobs and keeps their history.

    Args:
        db_path: SQLite file for projects, subjects, jobs and statuses (job logs go to a folder
            beside it). Default: :func:`~pbrain_widgets.engine.store.default_db_path`
            (``$PBRAIN_WIDGETS_DB`` or ``~/.local/share/pbrain-widgets/engine.sqlite``).
            ``":memory:"`` gives a throwaway engine.
        max_concurrent: how many jobs may run at once (>= 1).
        runner: runs stages whose :class:`Stage` has no runner of its own. Default: a
            :class:`~pbrain_widgets.engine.simulated.SimulatedRunner`.
        executor: where runners do their work: :class:`LocalExecutor` (default, this machine) or
            a cluster executor; at most ``min(max_concurrent, executor.capacity)`` jobs run.
        flush_interval: seconds between writes of buffered changes to the store.

    The engine starts its thread at once and jobs start as soon as they are queued; nothing
    needs ``await``. Wait for jobs with ``await engine.wait()`` in any event loop, or with
    :meth:`wait_sync` in a plain script.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        max_concurrent: int = 4,
        runner: Runner | None = None,
        *,
        executor: Executor | None = None,
        flush_interval: float = 0.2,
    ) -> None:
        check_max_concurrent(max_concurrent)
        if runner is None:
            runner = SimulatedRunner()
        if not isinstance(runner, Runner):
            raise InvalidArgumentError(f"runner must be a Runner instance, got {runner!r}")
        if executor is not None and not isinstance(executor, Executor):
            raise InvalidArgumentError(f"executor must be an Executor instance, got {executor!r}")
        self.runner = runner
        self.executor: Executor = executor or LocalExecutor()
        self._store = Store(default_db_path() if db_path is None else db_path)
        self.db_path = self._store.path
        self._flush_interval = flush_interval
        self._scheduler = Scheduler(max_concurrent)
        self._catalog = Catalog(self._store)
        self._logs = JobLogs(self._store, self._schedule_flush)
        self._waiters = Waiters()
        self._jobs: dict[str, Job] = {}  # every job, in queue order
        self._index = JobIndex()  # their ids by project, subject, stage and status
        self._newest = NewestJobs()  # the newest attempts' ids by project, stage and status
        self._long_lived = LongLivedRecords()  # frozen out of full garbage collections
        self._active: set[str] = set()
        self._active_by_stage: dict[tuple[str, str], str] = {}
        self._latest: dict[tuple[str, str], str] = {}  # (subject, stage) -> newest job id
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._flush_handle: asyncio.Handle | None = None
        self._seq = 0
        self._closing = False
        self._holds = 0  # batches under way that hold the starts (_starts_held)
        self._job_listeners: Listeners[Job] = Listeners("job update")
        self._close_listeners: Listeners[None] = Listeners("engine close")
        self._output_listeners: Listeners[Output] = Listeners("job output")
        self._qc_listeners: Listeners[tuple[str, str, QcEntry | None]] = Listeners("QC rating")
        self._qc: dict[tuple[str, str], QcEntry] = {}
        self._durations = eta.DurationModel()
        self._runs = Runs()
        self._templates: dict[str, RunTemplate] = {}
        self._expected: dict[str, float | None] = {}  # running job -> its stage's usual run time
        self._sampler = ResourceSampler(self._on_resource_sample)
        self._thread = LoopThread(f"pbrain-engine-{id(self):x}")
        try:
            self._thread.call(self._load)
        except BaseException:
            self._thread.stop()
            self._store.close()
            raise
        self.executor.attach(self._wake)
        _open_engines.add(self)

    # -- start-up ----------------------------------------------------------------------------

    def _load(self) -> None:
        projects, subjects, jobs = self._store.load()
        self._catalog.load(projects, subjects)
        for job in jobs:
            self._jobs[job.id] = job
            self._latest[(job.subject_id, job.stage_id)] = job.id
            self._seq = max(self._seq, job.seq)
            self._durations.add_job(job, self._runner_name(job))
        self._long_lived.added(len(jobs))
        interrupted = [j for j in self._jobs.values() if j.status.is_active]
        recover_interrupted(self._jobs, self._catalog, self._logs, self._store)
        for job in self._jobs.values():  # after recovery changed the interrupted jobs' status
            self._index.add(job)
            if self._is_latest(job):
                self._newest.add(job)
        for job in interrupted:
            self._store.index_job_text(job.seq, job.error, history.log_text(self._logs.get(job.id)))
        if not self._store.text_index_complete():  # a store from before the index: errors only
            done = {j.id for j in interrupted}
            for job in self._jobs.values():
                if job.id not in done and not job.status.is_active:
                    self._store.index_job_text(job.seq, job.error, "")
            self._store.mark_text_index_complete()
        for entry in self._store.load_qc():
            if entry.subject_id in self._catalog.subjects:
                self._qc[(entry.subject_id, entry.stage_id)] = entry
        for data in self._store.load_templates():
            try:
                template = template_from_dict(data)
            except TypeError as exc:
                log.warning("skipping unreadable template %r: %s", data.get("name"), exc)
                continue
            self._templates[template.name] = template
        self._store.flush()

    # -- the engine's thread and store plumbing ----------------------------------------------

    @property
    def thread(self) -> threading.Thread:
        """The thread that runs this engine's event loop (ended by :meth:`close`)."""
        return self._thread.thread

    def call(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(*args)`` on the engine's thread and return its result.

        For code that must see the engine between two of its steps (a widget taking a snapshot
        and subscribing, say). A plain call on the engine's thread; after close, on the caller's.
        """
        return self._thread.call(fn, *args)

    def submit(self, coro: Coroutine[Any, Any, R]) -> concurrent.futures.Future[R]:
        """Run ``coro`` on the engine's event loop; a future of its result (any thread).

        ``await asyncio.wrap_future(engine.submit(coro))`` awaits it from another loop.
        """
        self._check_open()
        return self._thread.submit(coro)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule ``fn(*args)`` on the engine's thread and return at once (any thread)."""
        if self._closing:
            raise EngineClosedError("this engine is closed; create a new Engine")
        self._thread.call_soon(fn, *args)

    def _check_open(self) -> None:
        if self._closing:
            raise EngineClosedError("this engine is closed; create a new Engine")

    def _wake(self) -> None:
        """Start what can start now; safe from any thread (executors call it)."""
        if self._closing:
            return
        if self._thread.is_current():
            self._pump()
        else:
            with contextlib.suppress(EngineClosedError):
                self._thread.call_soon(self._pump)

    def _schedule_flush(self, delay: float | None = None) -> None:
        if self._flush_handle is not None or self._closing:
            return
        delay = self._flush_interval if delay is None else delay
        self._flush_handle = self._thread.loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        delay = self._store.flush_turn()  # a bounded part; a failed write is retried, backing off
        if delay is not None:
            self._schedule_flush(delay)

    @on_engine_thread
    def flush(self) -> None:
        """Write every buffered change to the store now."""
        self._store.flush()

    @property
    def store_error(self) -> str | None:
        """Why writing to the store fails, while it does (the unwritten changes are kept in
        memory and retried); ``None`` when writes succeed."""
        return self._store.error

    @on_engine_thread
    def on_store_error(self, callback: Callable[[str | None], Any]) -> Unsubscribe:
        """Call ``callback(store_error)`` (on the engine's thread) when writing to the store
        starts failing, fails differently, or works again (``None``)."""
        return self._store.error_listeners.add(callback)

    # -- lookups -----------------------------------------------------------------------------

    def _job(self, job_id: str | Job) -> Job:
        if isinstance(job_id, Job):
            job_id = job_id.id
        try:
            return self._jobs[job_id]
        except (KeyError, TypeError):
            recent = [j for j in reversed(self._jobs)][:12]
            raise UnknownJobError(job_id, recent) from None

    @property
    def max_concurrent(self) -> int:
        return self._scheduler.max_concurrent

    @max_concurrent.setter
    def max_concurrent(self, value: int) -> None:
        check_max_concurrent(value)
        self._thread.call(self._set_max_concurrent, value)

    def _set_max_concurrent(self, value: int) -> None:
        self._scheduler.max_concurrent = value
        self._pump()

    # -- projects and subjects ---------------------------------------------------------------

    @on_engine_thread
    def create_project(
        self,
        name: str,
        pipeline: Pipeline = STUDIO_PIPELINE,
        storage_path: str | os.PathLike[str] | None = None,
    ) -> Project:
        """Create a project whose subjects run ``pipeline``. Project names are unique and follow
        the rule of subject names (:meth:`add_subjects`)."""
        self._check_open()
        return self._catalog.create_project(name, pipeline, storage_path)

    @on_engine_thread
    def get_projects(self) -> list[Project]:
        return list(self._catalog.projects.values())

    @on_engine_thread
    def get_project(self, project_id: str) -> Project:
        return self._catalog.project(project_id)

    @on_engine_thread
    def pipeline(self, project_id: str) -> Pipeline:
        """The project's pipeline (with the runners it was given in this session)."""
        self._catalog.project(project_id)
        return self._catalog.pipelines[project_id]

    @on_engine_thread
    def set_pipeline(self, project_id: str, pipeline: Pipeline) -> None:
        """Re-attach a pipeline object (with its stage runners) to a stored project.

        Its stages and dependencies must be the ones the project was created with.
        """
        self._catalog.set_pipeline(project_id, pipeline)

    @on_engine_thread
    def add_subjects(self, project_id: str, names: Iterable[str | Mapping[str, Any]]) -> list[Subject]:
        """Add subjects to a project, all or none.

        Each item is a name, or a mapping with ``name`` and optionally ``source_path`` (an
        existing folder; modalities are detected from its file names unless given),
        ``has_t1``, ``has_dce``, ``has_diffusion`` (``True`` or ``False``).

        A name must be usable as one folder name and one log line: no ``/`` or ``\\``, no
        control character (newline, tab, NUL...), line separator or lone surrogate, not ``.`` or
        ``..``, not starting with ``-``, at most 255 bytes in UTF-8; surrounding whitespace is
        removed. Anything else raises :class:`InvalidArgumentError` naming the character.
        """
        self._check_open()
        return self._catalog.add_subjects(project_id, names)

    @on_engine_thread
    def get_subjects(self, project_id: str) -> list[Subject]:
        self._catalog.project(project_id)
        return [subject_copy(s) for s in self._catalog.project_subjects(project_id)]

    @on_engine_thread
    def subject_names(self, project_id: str) -> dict[str, str]:
        """Subject id -> name of a project's subjects, in :meth:`get_subjects`' order, without
        copying them (what a view needs to label 10,000 subjects' jobs)."""
        self._catalog.project(project_id)
        return {s.id: s.name for s in self._catalog.project_subjects(project_id)}

    @on_engine_thread
    def get_subject(self, subject_id: str) -> Subject:
        return subject_copy(self._catalog.subject(subject_id))

    # -- queueing ----------------------------------------------------------------------------

    def _active_job(self, subject_id: str, stage_id: str) -> Job | None:
        job_id = self._active_by_stage.get((subject_id, stage_id))
        return self._jobs[job_id] if job_id is not None else None

    def _plan(
        self,
        pipeline: Pipeline,
        subject: Subject,
        chosen: list[str],
        with_dependencies: bool,
        rerun_done: bool = False,
    ) -> list[tuple[str, Job | None]]:
        """Stages to run for a subject, in dependency order, each with its active job if any.

        Chosen stages that are done are left out unless ``rerun_done`` (and so are their
        dependencies, unless another chosen stage needs them)."""
        if not rerun_done:
            chosen = [
                sid
                for sid in chosen
                if subject.stage_statuses.get(sid) != StageStatus.DONE
                or self._active_job(subject.id, sid) is not None
            ]
        stages = pipeline.closure(chosen) if with_dependencies else chosen
        plan = []
        for sid in stages:
            active = self._active_job(subject.id, sid)
            if active is None and sid not in chosen and (subject.stage_statuses.get(sid) == StageStatus.DONE):
                continue
            plan.append((sid, active))
        return plan

    def _enqueue(
        self,
        pipeline: Pipeline,
        subject: Subject,
        plan: list[tuple[str, Job | None]],
        retries: Mapping[str, Job] | None = None,
        runner_options: Mapping[str, Any] | None = None,
    ) -> list[Job]:
        jobs: list[Job] = []
        for sid, active in plan:
            if active is not None:
                jobs.append(active)
                continue
            waits = []
            for dep in pipeline[sid].depends_on:
                dep_job = self._active_job(subject.id, dep)
                if dep_job is not None:
                    waits.append(dep_job.id)
            previous = (retries or {}).get(sid)
            self._seq += 1
            job_id = new_id()
            job = Job(
                id=job_id,
                project_id=subject.project_id,
                subject_id=subject.id,
                stage_id=sid,
                log_path=self._store.log_path(job_id),
                attempt=previous.attempt + 1 if previous else 1,
                retry_of=previous.id if previous else None,
                priority=previous.priority if previous else 0,
                depends_on=tuple(waits),
                previous_stage_status=subject.stage_statuses.get(sid, StageStatus.NOT_RUN),
                seq=self._seq,
                current_step="Waiting for dependencies" if waits else "Queued",
                runner_options=dict(runner_options)
                if runner_options
                else (previous.runner_options if previous else None),
            )
            self._jobs[job_id] = job
            self._long_lived.added()
            self._index.add(job)
            superseded = self._latest.get((subject.id, sid))
            self._newest.add(job, self._jobs[superseded] if superseded is not None else None)
            self._latest[(subject.id, sid)] = job_id
            self._active.add(job_id)
            self._active_by_stage[(subject.id, sid)] = job_id
            self._logs.open(job_id)
            self._scheduler.add(job_id, job.seq, job.priority, waits)
            self._changed(job)
            self._catalog.set_stage_status(subject, sid, StageStatus.QUEUED)
            jobs.append(job)
        return jobs

    def run_pipeline(
        self,
        project_id: str,
        subject_ids: Iterable[str] | None = None,
        stage_ids: Iterable[str] | None = None,
        *,
        rerun_done: bool = False,
        template: str | None = None,
    ) -> list[Job]:
        """Queue the chosen stages (default: all) for the chosen subjects (default: all).

        Stages that are done are skipped unless ``rerun_done``: the default runs what is not
        done (not run, failed, cancelled, waiting or ``stale``). Dependencies that are not done
        are queued too; a stage that already has a queued or running job is not queued twice.
        ``template``: the name of a saved run template (:meth:`save_template`) giving the stages,
        the subjects, ``max_concurrent`` and the runners' options (explicit ``subject_ids`` and
        ``stage_ids`` narrow it further). Returns at once with the jobs of the plan (new ones and
        already active ones it reuses); each job starts once its dependency jobs completed.

        A large run is planned in slices of a few milliseconds on the engine's thread, so that
        its jobs, pipes and widgets go on meanwhile; the call returns when all is queued.
        """
        return self._work(self._plan_run(project_id, subject_ids, stage_ids, rerun_done, template))

    def _work(self, work: Generator[None, None, R]) -> R:
        """Run sliceable ``work``: at once on the engine's thread (from a listener or a runner),
        else there in slices (the caller waits for the result)."""
        if self._thread.is_current():
            return drive(work)
        return self._thread.submit(drive_in_slices(work)).result()

    def _plan_run(
        self,
        project_id: str,
        subject_ids: Iterable[str] | None,
        stage_ids: Iterable[str] | None,
        rerun_done: bool,
        template: str | None,
    ) -> Generator[None, None, list[Job]]:
        """run_pipeline's work, pausing (``yield``) after each subject."""
        self._check_open()
        self._catalog.project(project_id)
        pipeline = self._catalog.pipelines[project_id]
        chosen_template = self._template(template) if template is not None else None
        if subject_ids is None:
            subjects = [s for s in self._catalog.subjects.values() if s.project_id == project_id]
        else:
            if isinstance(subject_ids, str):
                subject_ids = [subject_ids]
            subjects = [self._catalog.project_subject(project_id, sid) for sid in subject_ids]
        if stage_ids is None and chosen_template is not None and chosen_template.stages is not None:
            stage_ids = chosen_template.stages
        chosen = pipeline.check_stage_ids(pipeline.stage_ids if stage_ids is None else stage_ids)
        options = None
        if chosen_template is not None:
            subjects = chosen_template.select_subjects(subjects)
            options = chosen_template.runner_options
            if chosen_template.max_concurrent is not None:
                self._scheduler.max_concurrent = chosen_template.max_concurrent
        return (
            yield from self._queue_runs(
                "run_pipeline", pipeline, [(s, chosen) for s in subjects], rerun_done, options
            )
        )

    def run_cells(
        self, project_id: str, cells: Iterable[tuple[str, str]], *, rerun_done: bool = False
    ) -> list[Job]:
        """Queue chosen cells of the subjects x stages grid: ``cells`` are ``(subject_id,
        stage_id)`` pairs of the project, in any combination (not only whole rows or columns).

        As :meth:`run_pipeline` plans each subject: cells that are done are skipped unless
        ``rerun_done``, dependencies that are not done are queued too, a cell already queued or
        running is not queued twice, and the whole call is one run (:meth:`on_run_finished`).
        Every pair is checked before anything is queued: an unknown subject (or one of another
        project) or stage raises its ``Unknown...Error`` naming it, and nothing is queued.
        """
        return self._work(self._plan_cells(project_id, cells, rerun_done))

    def _plan_cells(
        self, project_id: str, cells: Iterable[tuple[str, str]], rerun_done: bool
    ) -> Generator[None, None, list[Job]]:
        self._check_open()
        by_subject = self._cells_by_subject(project_id, cells)
        targets = [(self._catalog.subjects[sid], chosen) for sid, chosen in by_subject.items()]
        pipeline = self._catalog.pipelines[project_id]
        return (yield from self._queue_runs("run_cells", pipeline, targets, rerun_done, None))

    def _cells_by_subject(self, project_id: str, cells: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
        """Subject id -> its stage ids named in ``cells`` (each once, in order), every pair
        checked: a subject of the project, a stage of its pipeline."""
        self._catalog.project(project_id)
        pipeline = self._catalog.pipelines[project_id]
        by_subject: dict[str, list[str]] = {}
        for cell in cells:
            try:
                subject_id, stage_id = (None, None) if isinstance(cell, str) else cell
            except (TypeError, ValueError):
                subject_id = None
            if not isinstance(subject_id, str) or not isinstance(stage_id, str):
                raise InvalidArgumentError(
                    f"a cell is a (subject_id, stage_id) pair of strings, got {cell!r}"
                )
            subject = self._catalog.project_subject(project_id, subject_id)
            pipeline.check_stage_ids([stage_id])
            chosen = by_subject.setdefault(subject.id, [])
            if stage_id not in chosen:
                chosen.append(stage_id)
        return by_subject

    def cancel_cells(self, project_id: str, cells: Iterable[tuple[str, str]]) -> BatchResult:
        """Cancel the queued or running jobs of grid cells (``(subject_id, stage_id)`` pairs of
        the project); cells without one are left alone. Every pair is checked first, as in
        :meth:`run_cells`. Returns what :meth:`cancel_many` returns: the cancelled jobs, the
        queued jobs that depended on them included."""
        return self._work(self._cancel_cells(project_id, cells))

    def _cancel_cells(
        self, project_id: str, cells: Iterable[tuple[str, str]]
    ) -> Generator[None, None, BatchResult]:
        by_subject = self._cells_by_subject(project_id, cells)
        active = (self._active_job(sid, stage) for sid, stages in by_subject.items() for stage in stages)
        return (yield from self._cancel_many([job.id for job in active if job is not None]))

    def _queue_runs(
        self,
        action: str,
        pipeline: Pipeline,
        targets: list[tuple[Subject, list[str]]],
        rerun_done: bool,
        options: Mapping[str, Any] | None,
    ) -> Generator[None, None, list[Job]]:
        """Queue each subject's chosen stages as one run (pausing after each subject); the jobs
        of the plan, copied, once they are on disk."""
        jobs: list[Job] = []
        run = self._runs.open(action)
        try:
            for subject, chosen in targets:
                yield
                self._check_open()
                plan = self._plan(pipeline, subject, chosen, True, rerun_done)
                queued = self._enqueue(pipeline, subject, plan, None, options)
                self._runs.add(run, queued)
                jobs.extend(queued)
        finally:
            self._runs.seal(run, self._jobs)
        self._pump()
        # what the call returns is on disk: a crash now leaves it interrupted
        yield from self._store.commit_in_parts()
        copies: list[Job] = []
        for job in jobs:
            if len(copies) % 500 == 0:
                yield
            copies.append(job.copy())
        return copies

    @on_engine_thread
    def run_stage(
        self,
        project_id: str,
        subject_id: str,
        stage_id: str,
        run_dependencies: bool = True,
        *,
        rerun_done: bool = False,
    ) -> Job:
        """Queue one stage of one subject (and, by default, its dependencies that are not done).

        Without dependencies, the job still waits for dependency jobs already queued or running.
        Returns the stage's job (the active one if the stage is already queued or running). A
        stage that is done is run again only with ``rerun_done=True``; otherwise its newest
        (completed) job is returned and nothing is queued.
        """
        self._check_open()
        self._catalog.project(project_id)
        subject = self._catalog.project_subject(project_id, subject_id)
        pipeline = self._catalog.pipelines[project_id]
        chosen = pipeline.check_stage_ids([stage_id])
        plan = self._plan(pipeline, subject, chosen, run_dependencies, rerun_done)
        if not plan:
            latest = self._latest.get((subject.id, stage_id))
            if latest is None:
                raise InvalidTransitionError(
                    f"stage {stage_id!r} of {subject.name!r} is done; pass rerun_done=True to run it again"
                )
            return self._jobs[latest].copy()
        jobs = self._enqueue(pipeline, subject, plan)
        self._runs.start("run_stage", jobs, self._jobs)
        self._pump()
        self._store.commit()
        return jobs[-1].copy()

    # -- running -----------------------------------------------------------------------------

    def _pump(self) -> None:
        """Start every job the scheduler allows now."""
        if self._closing or self._holds:
            return
        limit = self.executor.capacity
        while (job_id := self._scheduler.pop_startable(limit)) is not None:
            self._start(self._jobs[job_id])

    def _set_status(self, job: Job, status: JobStatus) -> None:
        old, job.status = job.status, status
        self._index.moved(job, old)
        self._newest.moved(job, old)

    def _start(self, job: Job) -> None:
        subject = self._catalog.subjects[job.subject_id]
        stage = self._catalog.pipelines[job.project_id][job.stage_id]
        self._set_status(job, JobStatus.RUNNING)
        job.start_time = time.time()
        job.current_step = "Starting"
        self._expected[job.id] = self._durations.expected(job.stage_id, self._runner_name(job))
        self._changed(job)
        self._catalog.set_stage_status(subject, job.stage_id, StageStatus.RUNNING)
        self._log(
            job.id,
            LogLevel.INFO,
            f"Starting {stage.label} for subject {subject.name}"
            + (f" (attempt {job.attempt})" if job.attempt > 1 else ""),
        )
        ctx = JobContext(
            job,
            self._catalog.projects[job.project_id],
            subject_copy(subject),
            stage,
            emit_log=self._logs.append,
            emit_progress=self._set_progress,
            track_pid=self._track_pid,
            place=self._place,
            log_room=self._logs.room,
            emit_output=self._add_output,
            max_concurrent=self._scheduler.max_concurrent,
        )
        task = self._thread.loop.create_task(
            self._run_job(job, stage.runner or self.runner, ctx), name=f"pbrain-job-{job.id}"
        )
        self._tasks[job.id] = task
        # a done callback, not a finally: a task cancelled before it started never runs its body
        task.add_done_callback(functools.partial(self._job_task_done, job.id))

    def _job_task_done(self, job_id: str, _task: object = None) -> None:
        self._sampler.stop(job_id)
        self._tasks.pop(job_id, None)
        self._scheduler.release(job_id)
        job = self._jobs[job_id]
        if job.status is JobStatus.RUNNING:  # cancelled before its body ran (engine closing)
            self._finish(job, JobStatus.CANCELLED, "cancelled: the engine was stopped")
        self._pump()

    async def _run_job(self, job: Job, runner: Runner, ctx: JobContext) -> None:
        """Run the job's work and record how it ended (unless it was cancelled meanwhile)."""
        try:
            await self.executor.run(runner, ctx)
        except asyncio.CancelledError:
            if job.status is JobStatus.RUNNING:
                self._finish(job, JobStatus.CANCELLED, "cancelled: the engine was stopped")
        except NeedsUserAction as exc:
            if job.status is JobStatus.RUNNING:
                msg = f"needs user action: {exc}"
                self._log(job.id, LogLevel.WARNING, msg)
                self._finish(job, JobStatus.FAILED, msg, StageStatus.WAITING)
        except JobFailed as exc:
            if job.status is JobStatus.RUNNING:
                self._log(job.id, LogLevel.ERROR, str(exc))
                self._finish(job, JobStatus.FAILED, str(exc) or type(exc).__name__)
        except Exception as exc:
            if job.status is JobStatus.RUNNING:
                self._log(job.id, LogLevel.ERROR, traceback.format_exc().rstrip())
                self._finish(job, JobStatus.FAILED, f"{type(exc).__name__}: {exc}")
        else:
            if job.status is JobStatus.RUNNING:
                took = time.time() - (job.start_time or time.time())
                label = ctx.stage.label
                self._log(job.id, LogLevel.SUCCESS, f"{label} completed successfully in {took:.1f} s")
                self._finish(job, JobStatus.COMPLETED)

    def _finish(
        self,
        job: Job,
        status: JobStatus,
        error: str | None = None,
        stage_status: StageStatus | None = None,
        blocked_by: str | None = None,
    ) -> None:
        """Move an active job to a terminal status and end the queued jobs that need it."""
        was_running = job.status is JobStatus.RUNNING
        self._set_status(job, status)
        job.end_time = time.time()
        job.eta_seconds = None
        job.error = error
        job.blocked_by = blocked_by
        if status is JobStatus.COMPLETED:
            job.progress = 100.0
            job.current_step = "Completed"
        elif blocked_by is not None:
            job.current_step = "Skipped"
        else:
            job.current_step = status.value.capitalize()
        if stage_status is None:
            stage_status = {
                JobStatus.COMPLETED: StageStatus.DONE,
                JobStatus.FAILED: StageStatus.FAILED if was_running else job.previous_stage_status,
                JobStatus.CANCELLED: job.previous_stage_status,
            }[status]
        self._active.discard(job.id)
        if self._active_by_stage.get((job.subject_id, job.stage_id)) == job.id:
            del self._active_by_stage[(job.subject_id, job.stage_id)]
        self._logs.retire(job.id)
        self._changed(job)
        self._store.index_job_text(job.seq, error, self._logs.tail_text(job.id))
        self._long_lived.added()  # its last lines and end fields live as long as the engine
        subject = self._catalog.subjects[job.subject_id]
        self._catalog.set_stage_status(subject, job.stage_id, stage_status)
        self._expected.pop(job.id, None)
        if status is JobStatus.COMPLETED:
            self._durations.add_job(job, self._runner_name(job))
        if status is JobStatus.COMPLETED and job.previous_stage_status is not StageStatus.NOT_RUN:
            # a stage never run before has no done dependents (they needed it done)
            mark_downstream_stale(
                self._catalog,
                self._store,
                self._catalog.pipelines[job.project_id],
                subject,
                job.stage_id,
                job.end_time,
                functools.partial(self._active_job, subject.id),
            )
        ready, blocked = self._scheduler.finish(
            job.id, status is JobStatus.COMPLETED, release_slot=job.id not in self._tasks
        )
        for ready_id in ready:
            ready_job = self._jobs[ready_id]
            ready_job.current_step = "Queued"
            self._changed(ready_job)
        root = blocked_by or job.id
        stage_label = self._catalog.pipelines[job.project_id][job.stage_id].label
        for blocked_id in blocked:
            dependent = self._jobs[blocked_id]
            if status is JobStatus.CANCELLED:
                why = f"cancelled: depends on {stage_label} ({job.short_id}), which was cancelled"
                self._log(blocked_id, LogLevel.WARNING, why)
                self._finish(dependent, JobStatus.CANCELLED, why, blocked_by=root)
            else:
                why = f"dependency failed: {stage_label} ({job.short_id}) did not complete"
                self._log(blocked_id, LogLevel.ERROR, why)
                self._finish(dependent, JobStatus.FAILED, why, blocked_by=root)
        self._waiters.job_ended(job.id, not self._active)
        self._runs.job_ended(job, self._jobs)

    def _log(self, job_id: str, level: LogLevel, message: str) -> None:
        self._logs.append(job_id, level, message)

    def _set_progress(self, job_id: str, percent: float, step: str | None, eta_seconds: float | None) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        job.progress = percent
        if step is not None and step != job.current_step:
            job.current_step = step
            if len(job.steps) < MAX_STEPS:
                job.steps = (*job.steps, (round(time.time(), 3), step[:MAX_STEP_CHARS]))
        if eta_seconds is not None:
            job.eta_seconds = eta_seconds
        elif job.progress < 100 and job.start_time is not None:
            expected = self._expected.get(job_id)
            job.eta_seconds = eta.job_remaining(expected, time.time() - job.start_time, job.progress)
        else:
            job.eta_seconds = None
        self._changed(job)

    def _add_output(self, output: Output) -> None:
        job = self._jobs.get(output.job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        self._store.save_output(output)
        self._schedule_flush()
        self._output_listeners.emit(output)

    def _track_pid(self, job_id: str, pid: int | None) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        if pid is None:
            self._sampler.stop(job_id)
        else:
            self._sampler.start(job_id, pid)

    def _place(self, job_id: str, worker: str) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING or job.worker == worker:
            return
        job.worker = worker
        self._changed(job)

    def _on_resource_sample(self, job_id: str, cpu: float, rss: int) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        job.cpu_percent = cpu
        job.memory_rss = rss
        job.peak_cpu_percent = max(job.peak_cpu_percent or 0.0, cpu)
        job.peak_memory_rss = max(job.peak_memory_rss or 0, rss)
        kept = job.resource_history[-(ResourceSampler.HISTORY - 1) :]
        job.resource_history = (*kept, (time.time(), cpu, rss))
        self._changed(job)

    # -- records and events ------------------------------------------------------------------

    def _changed(self, job: Job) -> None:
        self._store.save_job(job)
        self._schedule_flush()
        if self._job_listeners:
            self._job_listeners.emit(job.copy())

    @on_engine_thread
    def on_job_update(self, callback: Callable[[Job], Any]) -> Unsubscribe:
        """Call ``callback(job)`` (a snapshot copy) on every change of any job.

        Listeners run on the engine's thread: they must return quickly and never wait for the
        kernel's main thread. The returned function unsubscribes (from any thread).
        """
        return self._job_listeners.add(callback)

    @on_engine_thread
    def on_close(self, callback: Callable[[None], Any]) -> Unsubscribe:
        """Call ``callback(None)`` on the engine's thread when :meth:`close` has ended every job,
        before the thread stops (a widget sends its last changes then)."""
        return self._close_listeners.add(callback)

    @on_engine_thread
    def on_status_update(self, callback: Callable[[StatusUpdate], Any]) -> Unsubscribe:
        """Call ``callback(update)`` (on the engine's thread) when a subject's stage changes status."""
        return self._catalog.status_listeners.add(callback)

    @on_engine_thread
    def on_subject_update(self, callback: Callable[[Subject], Any]) -> Unsubscribe:
        """Call ``callback(subject)`` (on the engine's thread) when subjects are added."""
        return self._catalog.subject_listeners.add(callback)

    @on_engine_thread
    def on_job_logs(self, job_id: str | None, callback: Callable[[LogEntry], Any]) -> Unsubscribe:
        """Call ``callback(entry)`` (on the engine's thread) for each new log line of ``job_id``
        (``None``: every job)."""
        if job_id is not None:
            self._job(job_id)
        return self._logs.subscribe(job_id, callback)

    # -- control -----------------------------------------------------------------------------

    @on_engine_thread
    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job (its running work is stopped at once).

        Queued jobs that depend on it end cancelled too.
        """
        job = self._job(job_id)
        if job.status not in ACTIVE_JOB_STATUSES:
            raise InvalidTransitionError(
                f"job {job.id!r} is {job.status.value}; only queued or running jobs can be cancelled"
            )
        self._cancel(job)
        return job.copy()

    def _cancel(self, job: Job) -> None:
        task = self._tasks.get(job.id)
        self._log(job.id, LogLevel.WARNING, "Cancelled by user")
        self._finish(job, JobStatus.CANCELLED, "cancelled by user")
        if task is not None:
            task.cancel()

    def cancel_all(self, project_id: str | None = None) -> list[Job]:
        """Cancel every queued and running job (of one project, or of all).

        Like every batch (:meth:`cancel_many`, :meth:`retry_many`, :meth:`cancel_cells`) it runs
        in slices of the engine's loop when called from another thread, and no job starts until
        it is done."""
        return self._work(self._cancel_all(project_id))

    def _cancel_all(self, project_id: str | None) -> Generator[None, None, list[Job]]:
        if project_id is not None:
            self._catalog.project(project_id)
        active = [self._jobs[j] for j in self._active]
        yield
        if project_id is not None:
            active = [j for j in active if j.project_id == project_id]
        by_seq = operator.attrgetter("seq")  # running jobs first, then the latest queued first
        running = sorted((j for j in active if j.status is JobStatus.RUNNING), key=by_seq, reverse=True)
        yield
        queued = sorted((j for j in active if j.status is not JobStatus.RUNNING), key=by_seq, reverse=True)
        targets = running + queued
        with self._starts_held():
            for job in targets:
                if job.status in ACTIVE_JOB_STATUSES:
                    self._cancel(job)
                yield
        copies: list[Job] = []
        for job in targets:
            if job.status is JobStatus.CANCELLED:
                copies.append(job.copy())
            yield
        return copies

    @contextlib.contextmanager
    def _starts_held(self) -> Iterator[None]:
        """No job starts inside (a batch in slices: a job about to be cancelled must not start
        between two slices); what may start then starts at the end."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            if not self._holds:
                self._pump()

    @on_engine_thread
    def retry(self, job_id: str) -> Job:
        """Run a failed or cancelled job again as a new job (``attempt + 1``).

        Its dependencies that are not done are queued again, and so are the jobs that were
        skipped because of it.
        """
        self._check_open()
        old = self._job(job_id)
        jobs = self._retry(old)
        self._runs.start("retry", jobs, self._jobs)
        self._pump()
        self._store.commit()
        return next(j for j in jobs if j.stage_id == old.stage_id).copy()

    def _retry(self, old: Job) -> list[Job]:
        """Queue a retry of ``old`` (see :meth:`retry`); the jobs queued (not yet started)."""
        if old.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise InvalidTransitionError(
                f"job {old.id!r} is {old.status.value}; only failed or cancelled jobs can be retried"
            )
        active = self._active_job(old.subject_id, old.stage_id)
        if active is not None:
            raise InvalidTransitionError(
                f"stage {old.stage_id!r} of this subject already has a {active.status.value} job "
                f"{active.id!r}; wait for it or cancel it first"
            )
        subject = self._catalog.subjects[old.subject_id]
        pipeline = self._catalog.pipelines[old.project_id]
        root_id = old.blocked_by or old.id
        downstream = set(pipeline.dependents(old.stage_id))
        of_subject = self._index.candidates(subject_id=old.subject_id) or []
        skipped = {
            j.stage_id: j
            for j in map(self._jobs.__getitem__, of_subject)
            if j.blocked_by == root_id
            and j.subject_id == old.subject_id
            and j.stage_id in downstream
            and self._is_latest(j)
        }
        retries = {**skipped, old.stage_id: old}
        root = self._jobs.get(root_id)
        if root is not None and root.subject_id == old.subject_id and self._is_latest(root):
            retries.setdefault(root.stage_id, root)
        plan = self._plan(pipeline, subject, [old.stage_id, *skipped], True, rerun_done=True)
        return self._enqueue(pipeline, subject, plan, retries)

    def cancel_many(self, job_ids: Iterable[str]) -> BatchResult:
        """Cancel many queued or running jobs in one step.

        Returns the cancelled jobs (``done``, including the queued jobs that depended on them)
        and, for each id that was not cancelled, why (``skipped``).
        """
        return self._work(self._cancel_many(list(job_ids)))

    def _cancel_many(self, job_ids: list[str]) -> Generator[None, None, BatchResult]:
        result = BatchResult()
        before = set(self._active)  # those now cancelled were cancelled by this batch
        with self._starts_held():
            for job_id in dict.fromkeys(job_ids):
                yield
                try:
                    job = self._job(job_id)
                except PbrainWidgetsError as exc:
                    result.skipped[str(job_id)] = str(exc)
                    continue
                if job.status is JobStatus.CANCELLED and job.id in before:
                    continue  # a dependent of a job cancelled before it
                if job.status not in ACTIVE_JOB_STATUSES:
                    result.skipped[job.id] = (
                        f"job is {job.status.value}; only queued or running jobs can be cancelled"
                    )
                    continue
                self._cancel(job)
        cancelled = [job for job in map(self._jobs.__getitem__, before) if job.status is JobStatus.CANCELLED]
        yield
        cancelled.sort(key=operator.attrgetter("seq"))
        for job in cancelled:
            result.done.append(job.copy())
            if len(result.done) % 500 == 0:
                yield
        return result

    def retry_many(self, job_ids: Iterable[str]) -> BatchResult:
        """Retry many failed or cancelled jobs in one step (one run for :meth:`on_run_finished`).

        Root failures are retried first; a job skipped because of one is re-queued by that
        retry (and reported as ``skipped`` with the reason). Returns the new jobs (``done``).
        """
        return self._work(self._retry_many(list(job_ids)))

    def _retry_many(self, job_ids: list[str]) -> Generator[None, None, BatchResult]:
        self._check_open()
        result = BatchResult()
        olds: list[Job] = []
        for job_id in dict.fromkeys(job_ids):
            try:
                olds.append(self._job(job_id))
            except PbrainWidgetsError as exc:
                result.skipped[str(job_id)] = str(exc)
        olds.sort(key=lambda j: (j.blocked_by is not None, j.seq))
        queued: list[Job] = []
        for old in olds:
            yield
            self._check_open()
            if old.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
                result.skipped[old.id] = (
                    f"job is {old.status.value}; only failed or cancelled jobs can be retried"
                )
                continue
            if not self._is_latest(old):
                newer = self._jobs[self._latest[(old.subject_id, old.stage_id)]]
                result.skipped[old.id] = f"already retried: job {newer.id} ({newer.status.value}) is newer"
                continue
            try:
                jobs = self._retry(old)
            except PbrainWidgetsError as exc:
                result.skipped[old.id] = str(exc)
                continue
            queued.extend(jobs)
            result.done.append(next(j for j in jobs if j.stage_id == old.stage_id))
        self._runs.start("retry_many", queued, self._jobs)
        self._pump()
        yield from self._store.commit_in_parts()
        copies: list[Job] = []
        for job in result.done:
            copies.append(job.copy())
            if len(copies) % 500 == 0:
                yield
        result.done = copies
        return result

    def _runner_name(self, job: Job) -> str:
        pipeline = self._catalog.pipelines.get(job.project_id)
        stage = pipeline[job.stage_id] if pipeline is not None and job.stage_id in pipeline else None
        runner = stage.runner if stage is not None and stage.runner is not None else self.runner
        return type(runner).__name__

    def _is_latest(self, job: Job) -> bool:
        """No newer job exists for the same subject and stage."""
        return self._latest.get((job.subject_id, job.stage_id)) == job.id

    @on_engine_thread
    def set_priority(self, job_id: str, priority: int) -> Job:
        """Change a queued job's priority (higher starts first; default 0). For many jobs, use
        :meth:`set_priority_many` (one call)."""
        job = self._job(job_id)
        check_priority(priority)
        if job.status is not JobStatus.QUEUED:
            raise InvalidTransitionError(f"job {job.id!r} {_not_queued(job)}")
        job.priority = priority
        self._scheduler.set_priority(job.id, priority)
        self._changed(job)
        self._pump()
        return job.copy()

    def set_priority_many(self, priorities: Mapping[str, int] | Iterable[tuple[str, int]]) -> PriorityResult:
        """Change many queued jobs' priorities in one step: ``priorities`` maps job ids to their
        new priority (a mapping, or ``(job_id, priority)`` pairs; a later pair of the same job
        wins).

        Every priority is checked first, as :meth:`set_priority` checks one: one that is not an
        integer raises :class:`InvalidArgumentError` naming it, and nothing changes. A job that
        is no longer queued (started, ended) or an unknown id is skipped, with the reason, as
        :meth:`cancel_many` does. Like every batch it runs in slices of the engine's loop when
        called from another thread, and no job starts until it is done: the jobs then start in
        their new order. Returns the ids of the jobs changed and the ones skipped."""
        return self._work(self._set_priority_many(_priority_moves(priorities)))

    def _set_priority_many(self, moves: dict[str, int]) -> Generator[None, None, PriorityResult]:
        self._check_open()
        result = PriorityResult()
        items = list(moves.items())
        size = SCAN_STEP // 4  # a job costs a store write and an event (listeners copy it)
        with self._starts_held():
            for start in range(0, len(items), size):
                yield
                step: list[Job] = []
                for job_id, priority in items[start : start + size]:
                    try:
                        job = self._job(job_id)
                    except PbrainWidgetsError as exc:
                        result.skipped[str(job_id)] = str(exc)
                        continue
                    if job.status is not JobStatus.QUEUED:
                        result.skipped[job.id] = f"job {_not_queued(job)}"
                        continue
                    job.priority = priority
                    step.append(job)
                # the scheduler once per step, then the events: a listener sees the new order
                self._scheduler.set_priorities([(job.id, job.priority) for job in step])
                for job in step:
                    self._changed(job)
                result.changed.extend(job.id for job in step)
                # the events' copies outlive young collections until the widgets send them:
                # counted like records, or 100,000 changes meet six full collections of 40-70 ms
                self._long_lived.added(len(step))
            self._scheduler.compact()
        return result

    @on_engine_thread
    def queue_order(self, project_id: str | None = None, limit: int | None = None) -> list[str]:
        """The ids of the queued jobs that are ready to start, in the order they will start
        (higher priority first, then queue order); jobs waiting for dependencies are not in it.
        With ``project_id``, only that project's jobs (their places among every project's);
        with ``limit``, only the first ``limit`` of them."""
        self._job_filters(project_id, None, None, None)
        check_count("limit", limit, optional=True)
        jobs = self._jobs
        accept = None if project_id is None else (lambda job_id: jobs[job_id].project_id == project_id)
        return self._scheduler.start_order(limit, accept)

    @on_engine_thread
    def listed_job_ids(
        self,
        status: JobStatus | str,
        project_id: str | None = None,
        stage_id: str | None = None,
        every_attempt: bool = False,
        start: int = 0,
        stop: int | None = None,
    ) -> list[str]:
        """The ids of the jobs with ``status`` in the order a monitor lists them: queued jobs
        ready to start first, in the order they will (:meth:`queue_order`), then those waiting
        for dependencies; any other status the latest to reach it first. Only the newest attempt
        of each subject x stage unless ``every_attempt``; of one project and one stage if given.
        ``start`` and ``stop`` slice the list, at the cost of ``stop`` ids, not of all of them."""
        statuses = self._job_filters(project_id, None, stage_id, status)
        assert statuses is not None  # one status was given
        (state,) = statuses
        check_count("start", start)
        check_count("stop", stop, optional=True)
        jobs = self._jobs

        def fits(job_id: str) -> bool:
            job = jobs[job_id]
            return (project_id is None or job.project_id == project_id) and (
                stage_id is None or job.stage_id == stage_id
            )

        if every_attempt and state is not JobStatus.QUEUED:  # a queued job is the newest attempt
            ids: Iterable[str] = filter(fits, self._index.latest_first(state))
        else:
            ids = self._newest.latest_first(project_id, stage_id, state)
        if state is JobStatus.QUEUED:
            accept = None if project_id is None and stage_id is None else fits
            waiting = (j for j in ids if not self._scheduler.is_ready(j))
            ids = itertools.chain(self._scheduler.iter_start_order(accept), waiting)
        return list(itertools.islice(ids, start, stop))

    def scan_listed_job_ids(
        self,
        statuses: Iterable[JobStatus],
        project_id: str | None = None,
        stage_id: str | None = None,
        every_attempt: bool = False,
    ) -> Generator[None, None, dict[JobStatus, list[str]]]:
        """:meth:`listed_job_ids` of several statuses whole, as work that pauses (``yield``)
        every :data:`~pbrain_widgets.engine.loop_thread.SCAN_STEP` ids: drive it on the
        engine's thread with :func:`~pbrain_widgets.engine.loop_thread.drive_in_slices` and the
        jobs go on while 100,000 are listed. The listing is the engine's state when the work began (its lists
        are copied in its first step), whatever changes meanwhile. Once the engine is closed, any
        thread may drive it."""
        if not (self._thread.is_current() or self.closed):  # (closed: read-only, any thread)
            raise PbrainWidgetsError("scan_listed_job_ids runs on the engine's thread (drive it there)")
        chosen = [self._job_filters(project_id, None, stage_id, s) for s in statuses]
        jobs = self._jobs

        def fits(job_id: str) -> bool:
            job = jobs[job_id]
            return (project_id is None or job.project_id == project_id) and (
                stage_id is None or job.stage_id == stage_id
            )

        copies: dict[JobStatus, list[str]] = {}
        for one in chosen:
            assert one is not None
            (state,) = one
            if every_attempt and state is not JobStatus.QUEUED:  # a queued job is the newest attempt
                copies[state] = list(self._index.latest_first(state))
            else:
                copies[state] = list(self._newest.latest_first(project_id, stage_id, state))
        ready: list[str] = []
        if JobStatus.QUEUED in copies:
            accept = None if project_id is None and stage_id is None else fits
            for job_id in self._scheduler.iter_start_order(accept, frozen=True):
                ready.append(job_id)
                if len(ready) % SCAN_STEP == 0:
                    yield
        listed: dict[JobStatus, list[str]] = {}
        for state, ids in copies.items():
            if state is JobStatus.QUEUED:
                first = set(ready)
                ids = ready + [j for j in ids if j not in first]
            elif every_attempt and (project_id is not None or stage_id is not None):
                kept: list[str] = []
                for i in range(0, len(ids), SCAN_STEP):
                    kept.extend(filter(fits, ids[i : i + SCAN_STEP]))
                    yield
                ids = kept
            listed[state] = ids
        return listed

    @on_engine_thread
    def count_newest(
        self, project_id: str | None = None, stage_id: str | None = None
    ) -> dict[JobStatus, int]:
        """Jobs per status, counting only the newest attempt of each subject x stage (of one
        project and one stage if given): what a monitor's tabs show, at no cost."""
        self._job_filters(project_id, None, stage_id, None)
        return {s: self._newest.count(project_id, stage_id, s) for s in JobStatus}

    @on_engine_thread
    def job_count(self, project_id: str | None = None) -> int:
        """How many jobs (every attempt) the engine, or one project, holds."""
        self._job_filters(project_id, None, None, None)
        return len(self._jobs) if project_id is None else self._index.count("project", project_id)

    @on_engine_thread
    def job_fields(self, job_ids: Iterable[str], *names: str) -> list[tuple[Any, ...]]:
        """For each job, the values of the fields ``names`` of :class:`Job` (``"status"``,
        ``"progress"``...), without copying jobs: what sorting or filtering 100,000 of them
        needs, at a tenth of the cost of :meth:`get_jobs`."""
        unknown = [n for n in names if n not in _JOB_FIELD_NAMES]
        if unknown:
            raise InvalidArgumentError(f"unknown job field(s) {unknown}; valid: {sorted(_JOB_FIELD_NAMES)}")
        get = operator.attrgetter(*names) if names else None
        jobs = [self._job(job_id) for job_id in job_ids]
        if get is None:
            return [() for _ in jobs]
        if len(names) == 1:
            return [(get(job),) for job in jobs]
        return [get(job) for job in jobs]

    @on_engine_thread
    def is_newest(self, job_id: str) -> bool:
        """Whether no newer attempt of the job's subject x stage exists."""
        return self._is_latest(self._job(job_id))

    # -- queries -----------------------------------------------------------------------------

    @on_engine_thread
    def get_job(self, job_id: str) -> Job:
        return self._job(job_id).copy()

    @on_engine_thread
    def get_jobs(
        self,
        project_id: str | None = None,
        subject_id: str | None = None,
        stage_id: str | None = None,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
    ) -> list[Job]:
        """Jobs matching every given filter, newest first."""
        return [job.copy() for job in self._matching(project_id, subject_id, stage_id, status)]

    @on_engine_thread
    def get_job_ids(
        self,
        project_id: str | None = None,
        subject_id: str | None = None,
        stage_id: str | None = None,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
    ) -> list[str]:
        """The ids of :meth:`get_jobs`, in its order, without copying the jobs (100,000 ids
        cost a few milliseconds where as many copies cost half a second)."""
        return [job.id for job in self._matching(project_id, subject_id, stage_id, status)]

    def _matching(
        self,
        project_id: str | None,
        subject_id: str | None,
        stage_id: str | None,
        status: JobStatus | str | Iterable[JobStatus | str] | None,
    ) -> Iterator[Job]:
        statuses = self._job_filters(project_id, subject_id, stage_id, status)
        candidates = self._index.candidates(project_id, subject_id, stage_id, statuses)
        if candidates is None or 2 * len(candidates) > len(self._jobs):  # most jobs: scan, no sort
            jobs: Iterable[Job] = reversed(self._jobs.values())
        else:  # the smallest index the filters name: the cost of the result, not of every job
            jobs = sorted((self._jobs[j] for j in candidates), key=lambda job: job.seq, reverse=True)
        return (
            job
            for job in jobs
            if (project_id is None or job.project_id == project_id)
            and (subject_id is None or job.subject_id == subject_id)
            and (stage_id is None or job.stage_id == stage_id)
            and (statuses is None or job.status in statuses)
        )

    @on_engine_thread
    def get_logs(self, job_id: str, tail: int | None = None, before: int | None = None) -> list[LogEntry]:
        """A job's log lines in order: all, or the last ``tail`` (of those with seq < ``before``)."""
        job = self._job(job_id)
        return self._logs.get(job.id, tail, before)

    # -- outputs and QC ----------------------------------------------------------------------

    @on_engine_thread
    def get_outputs(self, job_id: str) -> list[Output]:
        """What a job reported it produced (``ctx.output``), in order; kept in the store."""
        return self._store.read_outputs(self._job(job_id).id)

    @on_engine_thread
    def on_output(self, callback: Callable[[Output], Any]) -> Unsubscribe:
        """Call ``callback(output)`` on the engine's thread whenever a running job reports one."""
        return self._output_listeners.add(callback)

    @on_engine_thread
    def set_qc(
        self, subject_id: str, stage_id: str, rating: str | None, note: str | None = ""
    ) -> QcEntry | None:
        """Rate a subject's stage: ``"pass"``, ``"fail"`` (an exclusion), or ``None`` to forget
        the rating; with an optional ``note``. Stored at once; returns the rating."""
        subject = self._catalog.subject(subject_id)
        stage = self._catalog.pipelines[subject.project_id][stage_id]
        value = qc.check_rating(rating)
        text = qc.check_note(note)
        key = (subject.id, stage.id)
        entry = None if value is None else QcEntry(subject.id, stage.id, value, text)
        self._store.save_qc(subject.id, stage.id, entry)
        if entry is None:
            self._qc.pop(key, None)
        else:
            self._qc[key] = entry
        self._qc_listeners.emit((subject.id, stage.id, entry))
        return entry

    @on_engine_thread
    def get_qc(self, project_id: str | None = None, stage_id: str | None = None) -> list[QcEntry]:
        """The QC ratings (of one project, one stage, or all)."""
        self._job_filters(project_id, None, stage_id, None)
        subjects = self._catalog.subjects
        return [
            e
            for e in self._qc.values()
            if (project_id is None or subjects[e.subject_id].project_id == project_id)
            and (stage_id is None or e.stage_id == stage_id)
        ]

    @on_engine_thread
    def on_qc(self, callback: Callable[[tuple[str, str, QcEntry | None]], Any]) -> Unsubscribe:
        """Call ``callback((subject_id, stage_id, rating or None))`` when a rating changes."""
        return self._qc_listeners.add(callback)

    @on_engine_thread
    def qc_rows(self, project_id: str | None = None, stage_id: str | None = None) -> dict[str, list[Any]]:
        """:meth:`qc_table` as plain columns (no pandas)."""
        return qc.rows(self.get_qc(project_id, stage_id), self._catalog)

    def qc_table(self, project_id: str | None = None, stage_id: str | None = None) -> Any:
        """The QC ratings as a pandas DataFrame, one row per rated stage of a subject
        (columns :data:`~pbrain_widgets.engine.qc.COLUMNS`; ``rated_at`` in UTC)."""
        pd = history.require_pandas("engine.qc_table()")
        frame = pd.DataFrame(self.qc_rows(project_id, stage_id), columns=list(qc.COLUMNS))
        frame["rated_at"] = pd.to_datetime(frame["rated_at"].astype("float64"), unit="s", utc=True)
        return frame

    def export_qc(
        self,
        path: str | os.PathLike[str],
        project_id: str | None = None,
        stage_id: str | None = None,
        only_failed: bool = True,
    ) -> Path:
        """Write the QC ratings as a TSV (by default only the failed ones: the exclusions)."""
        columns = self.qc_rows(project_id, stage_id)
        return qc.write_tsv(path, qc.only_failed(columns) if only_failed else columns)

    # -- history, analytics, ETAs ------------------------------------------------------------

    def _job_filters(
        self, project_id: str | None, subject_id: str | None, stage_id: str | None, status: Any
    ) -> set[JobStatus] | None:
        if project_id is not None:
            self._catalog.project(project_id)
        if subject_id is not None:
            self._catalog.subject(subject_id)
        if stage_id is not None:
            known = {sid for p in self._catalog.pipelines.values() for sid in p.stage_ids}
            if stage_id not in known:
                raise UnknownStageError(stage_id, sorted(known))
        if status is None:
            return None
        items = [status] if isinstance(status, (str, JobStatus)) else list(status)
        try:
            return {JobStatus(s) for s in items}
        except ValueError:
            valid = [s.value for s in JobStatus]
            raise InvalidArgumentError(f"unknown job status in {status!r}; valid: {valid}") from None

    def _history_jobs(
        self,
        project_id: str | None = None,
        subject_id: str | None = None,
        stage_id: str | None = None,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
        since: Any = None,
        until: Any = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[Job]:
        statuses = self._job_filters(project_id, subject_id, stage_id, status)
        start, end = history.to_timestamp(since, "since"), history.to_timestamp(until, "until")
        check_count("limit", limit, optional=True)
        seqs = None
        tokens = history.text_tokens(text) if text else []
        if text is not None and not isinstance(text, str):
            raise InvalidArgumentError(f"text must be a string, got {text!r}")
        if tokens:
            seqs = self._store.search_text(history.fts_query(tokens))
            for job_id in self._active:  # not in the index until they end
                job = self._jobs[job_id]
                if history.matches_text(job, tokens, self._logs.get(job_id, LOG_TAIL_LINES)):
                    seqs.add(job.seq)
        found = history.select(
            reversed(self._jobs.values()),
            project_id=project_id,
            subject_id=subject_id,
            stage_id=stage_id,
            statuses=statuses,
            since=start,
            until=end,
            seqs=seqs,
        )
        return found if limit is None else found[:limit]

    @on_engine_thread
    def history_rows(self, **filters: Any) -> dict[str, list[Any]]:
        """:meth:`history` as plain columns (name -> list; times in POSIX seconds), no pandas."""
        return history.rows(self._history_jobs(**filters), self._catalog, time.time())

    @on_engine_thread
    def history_page(self, offset: int = 0, limit: int = 50, **filters: Any) -> dict[str, Any]:
        """One page of :meth:`history_rows` (for views that page through a long history):
        ``{"total": <jobs matching>, "columns": {name: [values of jobs offset..offset+limit]}}``.
        ``filters`` are those of :meth:`history` but ``limit``."""
        check_count("offset", offset)
        check_count("limit", limit)
        found = self._history_jobs(**filters)
        page = found[offset : offset + limit]
        return {"total": len(found), "columns": history.rows(page, self._catalog, time.time())}

    def history(
        self,
        project_id: str | None = None,
        subject_id: str | None = None,
        stage_id: str | None = None,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
        since: Any = None,
        until: Any = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> Any:
        """Every job ever run (all attempts, newest first) as a pandas DataFrame, one row per job.

        Filters: ``project_id``, ``subject_id``, ``stage_id``, ``status`` (one or several),
        ``since`` / ``until`` (queued at or after / before: POSIX seconds, a datetime or an ISO
        string), ``text`` (every word of it is in the job's error or log; FTS5), ``limit``.
        Columns: :data:`~pbrain_widgets.engine.history.COLUMNS`. Needs pandas
        (``pip install 'pbrain-widgets[history]'``); ``.to_csv(path)`` exports it.
        """
        history.require_pandas()
        columns = self.history_rows(
            project_id=project_id,
            subject_id=subject_id,
            stage_id=stage_id,
            status=status,
            since=since,
            until=until,
            text=text,
            limit=limit,
        )
        return history.to_frame(columns)

    @on_engine_thread
    def stage_stats(self, project_id: str | None = None) -> list[analytics.StageStats]:
        """Per stage: runs, success rate, median and p90 run time and queue wait
        (definitions in :mod:`pbrain_widgets.engine.analytics`)."""
        self._job_filters(project_id, None, None, None)
        jobs = [j for j in self._jobs.values() if project_id is None or j.project_id == project_id]
        pipelines = (
            self._catalog.pipelines
            if project_id is None
            else {project_id: self._catalog.pipelines[project_id]}
        )
        return analytics.stage_stats(jobs, pipelines)

    @on_engine_thread
    def failure_groups(self, project_id: str | None = None) -> list[analytics.FailureGroup]:
        """Unresolved failures grouped by root cause, the largest first: one broken stage is one
        group however many jobs it took down (see :mod:`pbrain_widgets.engine.analytics`)."""
        self._job_filters(project_id, None, None, None)
        jobs = (
            self._jobs
            if project_id is None
            else {k: j for k, j in self._jobs.items() if j.project_id == project_id}
        )
        return analytics.failure_groups(jobs, self._latest)

    @on_engine_thread
    def summary(self, project_id: str | None = None) -> dict[str, Any]:
        """Where the work stands: job counts per status (``jobs``), subjects' stage counts per
        status (``stages``, ``stale`` included), ``remaining`` (queued + running jobs) and
        ``eta_seconds``: until every queued and running job is done, from the run times seen
        per stage and ``max_concurrent`` (``None`` before anything is known; see
        :mod:`pbrain_widgets.engine.eta`)."""
        self._job_filters(project_id, None, None, None)
        jobs = {s.value: 0 for s in JobStatus}
        for job in self._jobs.values():
            if project_id is None or job.project_id == project_id:
                jobs[job.status.value] += 1
        stages = {s.value: 0 for s in StageStatus}
        for subject in self._catalog.subjects.values():
            if project_id is None or subject.project_id == project_id:
                for status in subject.stage_statuses.values():
                    stages[status.value] += 1
        active = [
            self._jobs[j]
            for j in self._active
            if project_id is None or self._jobs[j].project_id == project_id
        ]
        slots = min(self._scheduler.max_concurrent, self.executor.capacity or self._scheduler.max_concurrent)
        runners = {j.id: self._runner_name(j) for j in active}
        left = eta.run_eta(active, self._durations, runners, slots, time.time()) if active else 0.0
        return {"jobs": jobs, "stages": stages, "remaining": len(active), "eta_seconds": left}

    # -- log export --------------------------------------------------------------------------

    @on_engine_thread
    def export_logs(self, job_ids: Iterable[str], folder: str | os.PathLike[str]) -> list[Path]:
        """Write each job's whole log to ``folder`` (created if needed) as a text file named
        ``<project>_<subject>_<stage>_attempt<N>_<job id>.log`` (letters, digits, ``._-``
        only); one line per entry, ``ISO time  LEVEL  message``. Returns the paths, in order."""
        if isinstance(job_ids, str):
            job_ids = [job_ids]
        jobs = [self._job(j) for j in dict.fromkeys(job_ids)]
        target = Path(folder).expanduser()
        target.mkdir(parents=True, exist_ok=True)
        paths = []
        for job in jobs:
            project = self._catalog.projects[job.project_id].name
            subject = self._catalog.subjects[job.subject_id].name
            path = target / history.export_file_name(project, subject, job.stage_id, job)
            history.write_log_file(path, self._logs.get(job.id))
            paths.append(path)
        return paths

    # -- run templates and run notifications -------------------------------------------------

    def _template(self, name: str) -> RunTemplate:
        try:
            return self._templates[name]
        except (KeyError, TypeError):
            raise UnknownTemplateError(name, sorted(self._templates)) from None

    @on_engine_thread
    def save_template(
        self,
        name: str,
        *,
        stages: Iterable[str] | None = None,
        subjects: Iterable[str] | str | None = None,
        max_concurrent: int | None = None,
        runner_options: Mapping[str, Any] | None = None,
    ) -> RunTemplate:
        """Save (or replace) a named run configuration in the store: ``stages`` (ids; ``None``:
        all), ``subjects`` (names, or one glob pattern such as ``"sub-0*"``; ``None``: all),
        ``max_concurrent`` (set on the engine when applied) and ``runner_options`` (the runners
        get them as ``ctx.options``). Apply it with ``run_pipeline(project_id, template=name)``."""
        self._check_open()
        template = make_template(name, stages, subjects, max_concurrent, runner_options)
        self._store.save_template(template.name, template.to_dict())
        self._templates[template.name] = template
        return dataclasses.replace(template)

    @on_engine_thread
    def list_templates(self) -> list[RunTemplate]:
        """The saved templates, by name."""
        return [dataclasses.replace(self._templates[n]) for n in sorted(self._templates)]

    @on_engine_thread
    def delete_template(self, name: str) -> None:
        self._check_open()
        self._template(name)
        self._store.delete_template(name)
        del self._templates[name]

    @on_engine_thread
    def on_run_finished(self, callback: Callable[[RunSummary], Any]) -> Unsubscribe:
        """Call ``callback(summary)`` (on the engine's thread) when a run has finished: every job
        queued by one ``run_pipeline``, ``run_stage``, ``retry`` or ``retry_many`` call is
        completed, failed or cancelled. One call per run, whatever its size (a cascade of
        failures is one summary; see :class:`~pbrain_widgets.engine.runs.RunSummary`)."""
        return self._runs.listeners.add(callback)

    @property
    def active_jobs(self) -> int:
        """How many jobs are queued or running."""
        return len(self._active)

    # -- waiting -----------------------------------------------------------------------------

    def _start_wait(
        self, jobs: Iterable[Job | str] | Job | str | None
    ) -> tuple[concurrent.futures.Future[None], list[str] | None]:
        self._check_open()
        self._pump()
        if jobs is None:
            return self._waiters.add(None, not self._active), None
        if isinstance(jobs, (Job, str)):
            jobs = [jobs]
        ids = [self._job(j).id for j in jobs]
        remaining = [j for j in ids if self._jobs[j].status.is_active]
        return self._waiters.add(remaining, not self._active), ids

    def _records(self, ids: list[str] | None) -> list[Job]:
        return [] if ids is None else [self._jobs[j].copy() for j in ids]

    async def wait(
        self, jobs: Iterable[Job | str] | Job | str | None = None, timeout: float | None = None
    ) -> list[Job]:
        """Wait until the given jobs (default: every queued or running job) are terminal.

        Works in any running event loop (a notebook cell, ``asyncio.run``). Returns the jobs'
        current records; raises ``TimeoutError`` after ``timeout`` seconds.
        """
        future, ids = self._thread.call(self._start_wait, jobs)
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(EngineClosedError):
                self._thread.call_soon(self._waiters.discard, future)
            raise
        return self._thread.call(self._records, ids)

    def wait_sync(
        self, jobs: Iterable[Job | str] | Job | str | None = None, timeout: float | None = None
    ) -> list[Job]:
        """Blocking form of :meth:`wait`, for scripts without an event loop (any thread but the
        engine's own)."""
        if self._thread.is_current():
            raise PbrainWidgetsError(
                "wait_sync() would block the engine's own thread (from a listener or runner); "
                "use `await engine.wait()` there"
            )
        future, ids = self._thread.call(self._start_wait, jobs)
        try:
            future.result(timeout)
        except concurrent.futures.TimeoutError:
            with contextlib.suppress(EngineClosedError):
                self._thread.call_soon(self._waiters.discard, future)
            raise TimeoutError(f"jobs still active after {timeout} s") from None
        return self._thread.call(self._records, ids)

    # -- closing -----------------------------------------------------------------------------

    def _end_active_jobs(self) -> Generator[None, None, None]:
        """On the engine's thread: end every active job (pausing between jobs, for slices)."""
        for job_id in list(self._active):
            yield
            job = self._jobs[job_id]
            if job.status.is_active:
                self._log(job.id, LogLevel.WARNING, "Cancelled: the engine was closed")
                self._finish(job, JobStatus.CANCELLED, "cancelled: the engine was closed")

    def _begin_close(self) -> list[asyncio.Task[None]]:
        """On the engine's thread, once no job is active: stop the runners; the tasks to await."""
        self._closing = True
        runners: dict[int, Runner] = {id(self.runner): self.runner}
        for pipeline in self._catalog.pipelines.values():
            for stage in pipeline:
                if stage.runner is not None:
                    runners[id(stage.runner)] = stage.runner
        closables: list[Runner | Executor] = [*runners.values(), self.executor]
        for closable in closables:
            try:
                closable.close()
            except Exception:
                log.exception("closing %r failed", closable)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        self._sampler.close()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        return tasks

    def _end_close(self) -> None:
        try:
            self._store.close()
        finally:
            self._waiters.release_all()
            self._long_lived.release()

    async def _close_on_loop(self) -> None:
        await drive_in_slices(self._end_active_jobs())
        tasks = self._begin_close()
        self._close_listeners.emit(None)
        if tasks:
            # the tasks' clean-up stops their processes (SIGTERM, then SIGKILL)
            await asyncio.wait(tasks, timeout=_CLOSE_SECONDS)
        self._end_close()

    def close(self) -> None:
        """Stop every running job (its processes included), write everything, release the
        database and end the engine's thread. Queued and running jobs end cancelled.

        Safe from any thread, and more than once; returns within about 5 s.
        """
        if self._closing or self._thread.loop.is_closed():
            return
        try:
            if self._thread.is_current():
                # from a listener or runner: the loop cannot wait for itself; its last turn
                # gives the cancelled tasks their clean-up
                drive(self._end_active_jobs())
                self._begin_close()
                self._close_listeners.emit(None)
                self._end_close()
            else:
                # bounded inside (process clean-up waits at most _CLOSE_SECONDS); a loop wedged
                # by a blocking listener is reported rather than waited for forever
                try:
                    self._thread.submit(self._close_on_loop()).result(_CLOSE_WEDGED_SECONDS)
                except concurrent.futures.TimeoutError:
                    raise PbrainWidgetsError(
                        f"closing the engine took over {_CLOSE_WEDGED_SECONDS:.0f} s: a listener or "
                        "runner blocks its thread"
                    ) from None
        finally:
            _open_engines.discard(self)
            self._thread.stop()

    async def aclose(self) -> None:
        """:meth:`close` without blocking the caller's event loop."""
        if self._closing or self._thread.loop.is_closed():
            return
        if self._thread.is_current():
            self.close()
            return
        try:
            await asyncio.wrap_future(self._thread.submit(self._close_on_loop()))
        finally:
            _open_engines.discard(self)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.stop)

    @property
    def closed(self) -> bool:
        return self._closing

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        where = self.db_path or ":memory:"
        state = "closed" if self._closing else f"{len(self._active)} active jobs"
        return f"<Engine {where} max_concurrent={self.max_concurrent} {state}>"
