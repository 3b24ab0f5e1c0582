"""The engine: projects, subjects and jobs, run as asyncio tasks in the caller's event loop.

One job runs one pipeline stage for one subject. The engine queues jobs with their dependency
jobs, starts them as the scheduler allows, records everything in its store and tells listeners
what changed. It lives on the event loop of the thread that uses it (the kernel's loop in a
notebook); launching never needs ``await``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import copy
import logging
import math
import os
import time
import traceback
import uuid
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import (
    DuplicateNameError,
    EngineClosedError,
    InvalidArgumentError,
    InvalidTransitionError,
    JobFailed,
    NeedsUserAction,
    PbrainWidgetsError,
    UnknownJobError,
    UnknownProjectError,
    UnknownSubjectError,
)
from ..runners.base import JobContext, Runner
from .events import KeyedListeners, Listeners, Unsubscribe
from .executor import Executor, LocalExecutor
from .models import (
    LOG_TAIL_LINES,
    MAX_LINE_CHARS,
    Job,
    JobStatus,
    LogEntry,
    LogLevel,
    Project,
    StageStatus,
    StatusUpdate,
    Subject,
)
from .pipeline import STUDIO_PIPELINE, Pipeline
from .resources import ResourceSampler
from .scheduler import Scheduler, check_max_concurrent
from .store import Store, default_db_path

log = logging.getLogger("pbrain_widgets.engine")

_KEPT_TAILS = 256
_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)

_open_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


@atexit.register
def _close_open_engines() -> None:
    for engine in list(_open_engines):
        with contextlib.suppress(Exception):
            engine.close()


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


def _detect_modalities(path: Path) -> dict[str, bool]:
    names = " ".join(p.name.lower() for p in path.rglob("*") if p.is_file())
    return {
        "has_t1": any(k in names for k in ("t1", "_ir", "ir_", "vfa")),
        "has_dce": "dce" in names,
        "has_diffusion": any(k in names for k in ("dwi", "diffusion", "dti")),
    }


class _Waiter:
    __slots__ = ("future", "remaining")

    def __init__(self, future: asyncio.Future[None], remaining: set[str] | None) -> None:
        self.future = future
        self.remaining = remaining


class Engine:
    """Runs pipeline jobs and keeps their history.

    Args:
        db_path: SQLite file for projects, subjects, jobs and statuses (job logs go to a folder
            beside it). Default: :func:`~pbrain_widgets.engine.store.default_db_path`
            (``$PBRAIN_WIDGETS_DB`` or ``~/.local/share/pbrain-widgets/engine.sqlite``).
            ``":memory:"`` gives a throwaway engine.
        max_concurrent: how many jobs may run at once (>= 1).
        runner: runs stages whose :class:`Stage` has no runner of its own. Default: a
            :class:`~pbrain_widgets.runners.simulated.SimulatedRunner`.
        executor: where runners do their work: :class:`LocalExecutor` (default, this machine) or
            a cluster executor; at most ``min(max_concurrent, executor.capacity)`` jobs run.
        flush_interval: seconds between writes of buffered changes to the store.
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
            from ..runners.simulated import SimulatedRunner

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
        self._projects: dict[str, Project] = {}
        self._pipelines: dict[str, Pipeline] = {}
        self._subjects: dict[str, Subject] = {}
        self._jobs: dict[str, Job] = {}
        self._active_by_stage: dict[tuple[str, str], str] = {}
        self._latest: dict[tuple[str, str], str] = {}  # (subject, stage) -> newest job id
        self._active: set[str] = set()
        self._tails: dict[str, deque[LogEntry]] = {}
        self._old_tails: OrderedDict[str, deque[LogEntry]] = OrderedDict()
        self._log_seq: dict[str, int] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._waiters: list[_Waiter] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flush_handle: asyncio.Handle | None = None
        self._seq = 0
        self._closed = False
        self._job_listeners: Listeners[Job] = Listeners("job update")
        self._status_listeners: Listeners[StatusUpdate] = Listeners("status update")
        self._subject_listeners: Listeners[Subject] = Listeners("subject update")
        self._log_listeners: KeyedListeners[LogEntry] = KeyedListeners("job log")
        self._sampler = ResourceSampler(self._on_resource_sample)
        self._load()
        self.executor.attach(self._pump)
        _open_engines.add(self)

    # -- start-up ----------------------------------------------------------------------------

    def _load(self) -> None:
        projects, subjects, jobs = self._store.load()
        for p in projects:
            self._projects[p.id] = p
            self._pipelines[p.id] = Pipeline.from_dict(p.pipeline)
        for s in subjects:
            pipeline = self._pipelines.get(s.project_id)
            if pipeline is not None:
                for sid in pipeline.stage_ids:
                    s.stage_statuses.setdefault(sid, StageStatus.NOT_RUN)
            self._subjects[s.id] = s
        now = time.time()
        for job in jobs:
            self._jobs[job.id] = job
            self._latest[(job.subject_id, job.stage_id)] = job.id
            self._seq = max(self._seq, job.seq)
            if job.status in _ACTIVE:
                was = job.status.value
                self._log_seq[job.id] = len(self._store.read_logs(job.id))
                job.status = JobStatus.FAILED
                job.end_time = now
                job.eta_seconds = None
                job.error = (
                    f"interrupted: the engine stopped while this job was {was} "
                    "(kernel restart or crash); retry it to run it again"
                )
                job.current_step = "Interrupted"
                # a queued job is re-queued when the interrupted job it waited for is retried
                for dep in job.depends_on:
                    dep_job = self._jobs.get(dep)
                    if dep_job is not None and dep_job.error and dep_job.error.startswith("interrupted"):
                        job.blocked_by = dep_job.blocked_by or dep_job.id
                        break
                self._append_log(job.id, LogLevel.ERROR, job.error)
                self._store.save_job(job)
                subject = self._subjects.get(job.subject_id)
                if subject is not None:
                    status = StageStatus.FAILED if was == "running" else job.previous_stage_status
                    subject.stage_statuses[job.stage_id] = status
                    self._store.save_stage_status(subject.id, job.stage_id, status)
        self._store.flush()

    # -- loop and store plumbing -------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise EngineClosedError("this engine is closed; create a new Engine")

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop jobs run on: the current thread's running loop, bound at first use."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if loop is not self._loop:
            if self._loop is not None and not self._loop.is_closed() and self._tasks:
                raise PbrainWidgetsError(
                    "this engine is running jobs on another event loop; use it from that loop"
                )
            self._loop = loop
            self._flush_handle = None
        return loop

    def _schedule_flush(self) -> None:
        if self._flush_handle is not None:
            return
        loop = self._running_loop()
        if loop is None:
            self._store.flush()
        else:
            self._flush_handle = loop.call_later(self._flush_interval, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        try:
            self._store.flush()
        except Exception:
            log.exception("writing to the engine's store failed; will retry")
            self._schedule_flush()

    def flush(self) -> None:
        """Write every buffered change to the store now."""
        self._store.flush()

    # -- lookups -----------------------------------------------------------------------------

    def _project(self, project_id: str) -> Project:
        try:
            return self._projects[project_id]
        except (KeyError, TypeError):
            raise UnknownProjectError(project_id, self._projects) from None

    def _subject(self, subject_id: str) -> Subject:
        try:
            return self._subjects[subject_id]
        except (KeyError, TypeError):
            raise UnknownSubjectError(subject_id, self._subjects) from None

    def _job(self, job_id: str | Job) -> Job:
        if isinstance(job_id, Job):
            job_id = job_id.id
        try:
            return self._jobs[job_id]
        except (KeyError, TypeError):
            recent = [j for j in reversed(self._jobs)][:12]
            raise UnknownJobError(job_id, recent) from None

    def _project_subject(self, project_id: str, subject_id: str) -> Subject:
        subject = self._subject(subject_id)
        if subject.project_id != project_id:
            valid = [s.id for s in self._subjects.values() if s.project_id == project_id]
            raise UnknownSubjectError(subject_id, valid)
        return subject

    @property
    def max_concurrent(self) -> int:
        return self._scheduler.max_concurrent

    @max_concurrent.setter
    def max_concurrent(self, value: int) -> None:
        self._scheduler.max_concurrent = check_max_concurrent(value)
        self._pump()

    # -- projects and subjects ---------------------------------------------------------------

    def create_project(
        self,
        name: str,
        pipeline: Pipeline = STUDIO_PIPELINE,
        storage_path: str | os.PathLike[str] | None = None,
    ) -> Project:
        """Create a project whose subjects run ``pipeline``. Project names are unique."""
        self._check_open()
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgumentError(f"a project name must be a non-empty string, got {name!r}")
        if not isinstance(pipeline, Pipeline):
            raise InvalidArgumentError(f"pipeline must be a Pipeline, got {pipeline!r}")
        name = name.strip()
        taken = [p.name for p in self._projects.values()]
        if name in taken:
            raise DuplicateNameError(f"a project named {name!r} already exists; existing projects: {taken}")
        project = Project(
            id=_new_id(),
            name=name,
            storage_path=str(storage_path) if storage_path is not None else None,
            pipeline=pipeline.to_dict(),
        )
        self._store.insert_project(project)
        self._projects[project.id] = project
        self._pipelines[project.id] = pipeline
        return project

    def get_projects(self) -> list[Project]:
        return list(self._projects.values())

    def get_project(self, project_id: str) -> Project:
        return self._project(project_id)

    def pipeline(self, project_id: str) -> Pipeline:
        """The project's pipeline (with the runners it was given in this session)."""
        self._project(project_id)
        return self._pipelines[project_id]

    def set_pipeline(self, project_id: str, pipeline: Pipeline) -> None:
        """Re-attach a pipeline object (with its stage runners) to a stored project.

        Its stages and dependencies must be the ones the project was created with.
        """
        project = self._project(project_id)
        if pipeline.to_dict()["stages"] != project.pipeline["stages"]:
            raise InvalidArgumentError(
                f"pipeline {pipeline.name!r} does not match project {project.name!r}'s stages "
                f"{[s['id'] for s in project.pipeline['stages']]}"
            )
        self._pipelines[project_id] = pipeline

    def add_subjects(self, project_id: str, names: Iterable[str | Mapping[str, Any]]) -> list[Subject]:
        """Add subjects to a project, all or none.

        Each item is a name, or a mapping with ``name`` and optionally ``source_path`` (an
        existing folder; modalities are detected from its file names unless given),
        ``has_t1``, ``has_dce``, ``has_diffusion``.
        """
        self._check_open()
        project = self._project(project_id)
        if isinstance(names, (str, Mapping)):
            names = [names]
        existing = {s.name for s in self._subjects.values() if s.project_id == project_id}
        allowed = {"name", "source_path", "has_t1", "has_dce", "has_diffusion"}
        subjects: list[Subject] = []
        seen: set[str] = set()
        for item in names:
            spec: dict[str, Any] = {"name": item} if isinstance(item, str) else dict(item)
            extra = set(spec) - allowed
            if extra:
                raise InvalidArgumentError(
                    f"unknown subject field(s) {sorted(extra)}; valid fields: {sorted(allowed)}"
                )
            name = spec.get("name")
            if not isinstance(name, str) or not name.strip():
                raise InvalidArgumentError(f"a subject name must be a non-empty string, got {name!r}")
            name = name.strip()
            if name in existing or name in seen:
                raise DuplicateNameError(
                    f"subject {name!r} already exists in project {project.name!r}; "
                    "subject names are unique within a project"
                )
            seen.add(name)
            source = spec.get("source_path")
            flags: dict[str, bool] = {}
            if source is not None:
                path = Path(source).expanduser()
                if not path.is_dir():
                    raise InvalidArgumentError(
                        f"source_path {str(source)!r} of subject {name!r} is not an existing folder"
                    )
                source = str(path.resolve())
                flags = _detect_modalities(path)
            for key in ("has_t1", "has_dce", "has_diffusion"):
                if key in spec:
                    flags[key] = bool(spec[key])
            subjects.append(
                Subject(
                    id=_new_id(),
                    project_id=project_id,
                    name=name,
                    source_path=source,
                    stage_statuses=dict.fromkeys(self._pipelines[project_id].stage_ids, StageStatus.NOT_RUN),
                    **flags,
                )
            )
        self._store.insert_subjects(subjects)
        for s in subjects:
            self._subjects[s.id] = s
            if self._subject_listeners:
                self._subject_listeners.emit(self._subject_copy(s))
        return [self._subject_copy(s) for s in subjects]

    @staticmethod
    def _subject_copy(subject: Subject) -> Subject:
        clone = copy.copy(subject)
        clone.stage_statuses = dict(subject.stage_statuses)
        return clone

    def get_subjects(self, project_id: str) -> list[Subject]:
        self._project(project_id)
        return [self._subject_copy(s) for s in self._subjects.values() if s.project_id == project_id]

    def get_subject(self, subject_id: str) -> Subject:
        return self._subject_copy(self._subject(subject_id))

    # -- queueing ----------------------------------------------------------------------------

    def _active_job(self, subject_id: str, stage_id: str) -> Job | None:
        job_id = self._active_by_stage.get((subject_id, stage_id))
        return self._jobs[job_id] if job_id is not None else None

    def _plan(
        self, pipeline: Pipeline, subject: Subject, chosen: list[str], with_dependencies: bool
    ) -> list[tuple[str, Job | None]]:
        """Stages to run for a subject, in dependency order, each with its active job if any."""
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
            job_id = _new_id()
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
            )
            self._jobs[job_id] = job
            self._latest[(subject.id, sid)] = job_id
            self._active.add(job_id)
            self._active_by_stage[(subject.id, sid)] = job_id
            self._log_seq[job_id] = 0
            self._tails[job_id] = deque(maxlen=LOG_TAIL_LINES)
            self._scheduler.add(job_id, job.seq, job.priority, waits)
            self._changed(job)
            self._set_stage_status(subject, sid, StageStatus.QUEUED)
            jobs.append(job)
        return jobs

    def run_pipeline(
        self,
        project_id: str,
        subject_ids: Iterable[str] | None = None,
        stage_ids: Iterable[str] | None = None,
    ) -> list[Job]:
        """Queue the chosen stages (default: all) for the chosen subjects (default: all).

        Dependencies that are not done are queued too; a stage that already has a queued or
        running job is not queued twice. Returns at once with the jobs of the plan (new ones and
        already active ones it reuses); each job starts once its dependency jobs completed.
        """
        self._check_open()
        self._project(project_id)
        pipeline = self._pipelines[project_id]
        if subject_ids is None:
            subjects = [s for s in self._subjects.values() if s.project_id == project_id]
        else:
            if isinstance(subject_ids, str):
                subject_ids = [subject_ids]
            subjects = [self._project_subject(project_id, sid) for sid in subject_ids]
        chosen = pipeline.check_stage_ids(pipeline.stage_ids if stage_ids is None else stage_ids)
        plans = [(s, self._plan(pipeline, s, chosen, True)) for s in subjects]
        jobs = [job for s, plan in plans for job in self._enqueue(pipeline, s, plan)]
        self._pump()
        return [j.copy() for j in jobs]

    def run_stage(
        self, project_id: str, subject_id: str, stage_id: str, run_dependencies: bool = True
    ) -> Job:
        """Queue one stage of one subject (and, by default, its dependencies that are not done).

        Without dependencies, the job still waits for dependency jobs already queued or running.
        Returns the stage's job (the active one if the stage is already queued or running).
        """
        self._check_open()
        self._project(project_id)
        subject = self._project_subject(project_id, subject_id)
        pipeline = self._pipelines[project_id]
        chosen = pipeline.check_stage_ids([stage_id])
        plan = self._plan(pipeline, subject, chosen, run_dependencies)
        jobs = self._enqueue(pipeline, subject, plan)
        self._pump()
        return jobs[-1].copy()

    # -- running -----------------------------------------------------------------------------

    def _pump(self) -> None:
        """Start every job the scheduler allows now (only with a running event loop)."""
        if self._closed:
            return
        loop = self._running_loop()
        if loop is None:
            self._store.flush()
            return
        limit = self.executor.capacity
        while (job_id := self._scheduler.pop_startable(limit)) is not None:
            self._start(loop, self._jobs[job_id])

    def _start(self, loop: asyncio.AbstractEventLoop, job: Job) -> None:
        subject = self._subjects[job.subject_id]
        stage = self._pipelines[job.project_id][job.stage_id]
        job.status = JobStatus.RUNNING
        job.start_time = time.time()
        job.current_step = "Starting"
        self._changed(job)
        self._set_stage_status(subject, job.stage_id, StageStatus.RUNNING)
        self._append_log(
            job.id,
            LogLevel.INFO,
            f"Starting {stage.label} for subject {subject.name}"
            + (f" (attempt {job.attempt})" if job.attempt > 1 else ""),
        )
        ctx = JobContext(
            job,
            self._projects[job.project_id],
            self._subject_copy(subject),
            stage,
            emit_log=self._append_log,
            emit_progress=self._set_progress,
            track_pid=self._track_pid,
        )
        task = loop.create_task(
            self._run_job(job, stage.runner or self.runner, ctx), name=f"pbrain-job-{job.id}"
        )
        self._tasks[job.id] = task
        # a done callback, not a finally: a task cancelled before it started never runs its body
        task.add_done_callback(lambda _task, job_id=job.id: self._job_task_done(job_id))

    def _job_task_done(self, job_id: str) -> None:
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
                self._append_log(job.id, LogLevel.WARNING, msg)
                self._finish(job, JobStatus.FAILED, msg, StageStatus.WAITING)
        except JobFailed as exc:
            if job.status is JobStatus.RUNNING:
                self._append_log(job.id, LogLevel.ERROR, str(exc))
                self._finish(job, JobStatus.FAILED, str(exc) or type(exc).__name__)
        except Exception as exc:
            if job.status is JobStatus.RUNNING:
                self._append_log(job.id, LogLevel.ERROR, traceback.format_exc().rstrip())
                self._finish(job, JobStatus.FAILED, f"{type(exc).__name__}: {exc}")
        else:
            if job.status is JobStatus.RUNNING:
                took = time.time() - (job.start_time or time.time())
                label = ctx.stage.label
                self._append_log(job.id, LogLevel.SUCCESS, f"{label} completed successfully in {took:.1f} s")
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
        job.status = status
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
        tail = self._tails.pop(job.id, None)
        if tail is not None:
            self._old_tails[job.id] = tail
            if len(self._old_tails) > _KEPT_TAILS:
                self._old_tails.popitem(last=False)
        self._changed(job)
        self._set_stage_status(self._subjects[job.subject_id], job.stage_id, stage_status)
        ready, blocked = self._scheduler.finish(
            job.id, status is JobStatus.COMPLETED, release_slot=job.id not in self._tasks
        )
        for ready_id in ready:
            ready_job = self._jobs[ready_id]
            ready_job.current_step = "Queued"
            self._changed(ready_job)
        root = blocked_by or job.id
        stage_label = self._pipelines[job.project_id][job.stage_id].label
        for blocked_id in blocked:
            dependent = self._jobs[blocked_id]
            if status is JobStatus.CANCELLED:
                why = f"cancelled: depends on {stage_label} ({job.short_id}), which was cancelled"
                self._append_log(blocked_id, LogLevel.WARNING, why)
                self._finish(dependent, JobStatus.CANCELLED, why, blocked_by=root)
            else:
                why = f"dependency failed: {stage_label} ({job.short_id}) did not complete"
                self._append_log(blocked_id, LogLevel.ERROR, why)
                self._finish(dependent, JobStatus.FAILED, why, blocked_by=root)
        self._notify_waiters(job.id)

    def _notify_waiters(self, job_id: str) -> None:
        if not self._waiters:
            return
        for waiter in list(self._waiters):
            if waiter.remaining is None:
                done = not self._active
            else:
                waiter.remaining.discard(job_id)
                done = not waiter.remaining
            if done:
                self._waiters.remove(waiter)
                if not waiter.future.done():
                    waiter.future.set_result(None)

    # -- job reports (from runners) ----------------------------------------------------------

    def _append_log(self, job_id: str, level: LogLevel | str, message: object) -> None:
        if job_id not in self._log_seq:
            self._log_seq[job_id] = len(self._store.read_logs(job_id))
        level = LogLevel.parse(level)
        text = message if isinstance(message, str) else str(message)
        lines = text.splitlines() or [""]
        now = time.time()
        tail = self._tails.get(job_id)
        if tail is None:
            tail = self._old_tails.get(job_id)
        wants = self._log_listeners.wants(job_id)
        seq = self._log_seq[job_id]
        for line in lines:
            if len(line) > MAX_LINE_CHARS:
                cut = len(line) - MAX_LINE_CHARS
                line = f"{line[:MAX_LINE_CHARS]}... [line truncated: {cut} more characters]"
            seq += 1
            entry = LogEntry(seq, now, level, line)
            if tail is not None:
                tail.append(entry)
            self._store.append_log(job_id, entry)
            if wants:
                self._log_listeners.emit(job_id, entry)
        self._log_seq[job_id] = seq
        self._schedule_flush()

    def _set_progress(self, job_id: str, percent: float, step: str | None, eta_seconds: float | None) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        try:
            value = float(percent)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"progress must be a number from 0 to 100, got {percent!r}") from None
        if math.isnan(value):
            raise InvalidArgumentError("progress must be a number from 0 to 100, got nan")
        job.progress = min(100.0, max(0.0, value))
        if step is not None:
            job.current_step = str(step)
        if eta_seconds is not None:
            job.eta_seconds = max(0.0, float(eta_seconds))
        elif 0 < job.progress < 100 and job.start_time is not None:
            elapsed = time.time() - job.start_time
            job.eta_seconds = elapsed * (100 - job.progress) / job.progress
        else:
            job.eta_seconds = None
        self._changed(job)

    def _track_pid(self, job_id: str, pid: int | None) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        if pid is None:
            self._sampler.stop(job_id)
        else:
            self._sampler.start(job_id, pid)

    def _on_resource_sample(self, job_id: str, cpu: float, rss: int) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        job.cpu_percent = cpu
        job.memory_rss = rss
        job.peak_cpu_percent = max(job.peak_cpu_percent or 0.0, cpu)
        job.peak_memory_rss = max(job.peak_memory_rss or 0, rss)
        job.resource_history.append((time.time(), cpu, rss))
        del job.resource_history[: -ResourceSampler.HISTORY]
        self._changed(job)

    # -- records and events ------------------------------------------------------------------

    def _changed(self, job: Job) -> None:
        self._store.save_job(job)
        self._schedule_flush()
        if self._job_listeners:
            self._job_listeners.emit(job.copy())

    def _set_stage_status(self, subject: Subject, stage_id: str, status: StageStatus) -> None:
        if subject.stage_statuses.get(stage_id) == status:
            return
        subject.stage_statuses[stage_id] = status
        subject.updated_at = time.time()
        self._store.save_stage_status(subject.id, stage_id, status)
        if self._status_listeners:
            self._status_listeners.emit(StatusUpdate(subject.project_id, subject.id, stage_id, status))

    def on_job_update(self, callback: Callable[[Job], Any]) -> Unsubscribe:
        """Call ``callback(job)`` (a snapshot copy) on every change of any job."""
        return self._job_listeners.add(callback)

    def on_status_update(self, callback: Callable[[StatusUpdate], Any]) -> Unsubscribe:
        """Call ``callback(update)`` whenever a subject's stage changes status."""
        return self._status_listeners.add(callback)

    def on_subject_update(self, callback: Callable[[Subject], Any]) -> Unsubscribe:
        """Call ``callback(subject)`` when subjects are added."""
        return self._subject_listeners.add(callback)

    def on_job_logs(self, job_id: str | None, callback: Callable[[LogEntry], Any]) -> Unsubscribe:
        """Call ``callback(entry)`` for each new log line of ``job_id`` (``None``: every job)."""
        if job_id is not None:
            self._job(job_id)
        return self._log_listeners.add(job_id, callback)

    # -- control -----------------------------------------------------------------------------

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job (its running work is stopped at once).

        Queued jobs that depend on it end cancelled too.
        """
        job = self._job(job_id)
        if job.status not in _ACTIVE:
            raise InvalidTransitionError(
                f"job {job.id!r} is {job.status.value}; only queued or running jobs can be cancelled"
            )
        self._cancel(job)
        return job.copy()

    def _cancel(self, job: Job) -> None:
        task = self._tasks.get(job.id)
        self._append_log(job.id, LogLevel.WARNING, "Cancelled by user")
        self._finish(job, JobStatus.CANCELLED, "cancelled by user")
        if task is not None:
            task.cancel()

    def cancel_all(self, project_id: str | None = None) -> list[Job]:
        """Cancel every queued and running job (of one project, or of all)."""
        if project_id is not None:
            self._project(project_id)
        targets = sorted(
            (self._jobs[j] for j in self._active),
            key=lambda j: (j.status is JobStatus.QUEUED, -j.seq),
        )
        targets = [j for j in targets if project_id is None or j.project_id == project_id]
        for job in targets:
            if job.status in _ACTIVE:
                self._cancel(job)
        return [j.copy() for j in targets if j.status is JobStatus.CANCELLED]

    def retry(self, job_id: str) -> Job:
        """Run a failed or cancelled job again as a new job (``attempt + 1``).

        Its dependencies that are not done are queued again, and so are the jobs that were
        skipped because of it.
        """
        self._check_open()
        old = self._job(job_id)
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
        subject = self._subjects[old.subject_id]
        pipeline = self._pipelines[old.project_id]
        root_id = old.blocked_by or old.id
        downstream = set(pipeline.dependents(old.stage_id))
        skipped = {
            j.stage_id: j
            for j in self._jobs.values()
            if j.blocked_by == root_id
            and j.subject_id == old.subject_id
            and j.stage_id in downstream
            and self._is_latest(j)
        }
        retries = {**skipped, old.stage_id: old}
        root = self._jobs.get(root_id)
        if root is not None and root.subject_id == old.subject_id and self._is_latest(root):
            retries.setdefault(root.stage_id, root)
        plan = self._plan(pipeline, subject, [old.stage_id, *skipped], True)
        jobs = self._enqueue(pipeline, subject, plan, retries)
        self._pump()
        return next(j for j in jobs if j.stage_id == old.stage_id).copy()

    def _is_latest(self, job: Job) -> bool:
        """No newer job exists for the same subject and stage."""
        return self._latest.get((job.subject_id, job.stage_id)) == job.id

    def set_priority(self, job_id: str, priority: int) -> Job:
        """Change a queued job's priority (higher starts first; default 0)."""
        job = self._job(job_id)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise InvalidArgumentError(f"priority must be an integer, got {priority!r}")
        if job.status is not JobStatus.QUEUED:
            raise InvalidTransitionError(
                f"job {job.id!r} is {job.status.value}; only a queued job's priority can change"
            )
        job.priority = priority
        self._scheduler.set_priority(job.id, priority)
        self._changed(job)
        self._pump()
        return job.copy()

    # -- queries -----------------------------------------------------------------------------

    def get_job(self, job_id: str) -> Job:
        return self._job(job_id).copy()

    def get_jobs(
        self,
        project_id: str | None = None,
        subject_id: str | None = None,
        stage_id: str | None = None,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
    ) -> list[Job]:
        """Jobs matching every given filter, newest first."""
        if project_id is not None:
            self._project(project_id)
        if subject_id is not None:
            self._subject(subject_id)
        statuses = None
        if status is not None:
            items = [status] if isinstance(status, (str, JobStatus)) else list(status)
            try:
                statuses = {JobStatus(s) for s in items}
            except ValueError:
                valid = [s.value for s in JobStatus]
                raise InvalidArgumentError(f"unknown job status in {status!r}; valid: {valid}") from None
        out = []
        for job in reversed(self._jobs.values()):
            if (
                (project_id is None or job.project_id == project_id)
                and (subject_id is None or job.subject_id == subject_id)
                and (stage_id is None or job.stage_id == stage_id)
                and (statuses is None or job.status in statuses)
            ):
                out.append(job.copy())
        return out

    def get_logs(self, job_id: str, tail: int | None = None, before: int | None = None) -> list[LogEntry]:
        """A job's log lines in order: all, or the last ``tail`` (of those with seq < ``before``)."""
        job = self._job(job_id)
        for name, value in (("tail", tail), ("before", before)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InvalidArgumentError(f"{name} must be an integer >= 0 or None, got {value!r}")
        if tail == 0:
            return []
        memory = self._tails.get(job.id) or self._old_tails.get(job.id)
        total = self._log_seq.get(job.id)
        if memory is not None and total is not None and before is None:
            complete = len(memory) == total
            if complete or (tail is not None and tail <= len(memory)):
                lines = list(memory)
                return lines if tail is None else lines[-tail:]
        entries = self._store.read_logs(job.id)
        if before is not None:
            entries = [e for e in entries if e.seq < before]
        return entries if tail is None else entries[-tail:]

    @property
    def active_jobs(self) -> int:
        """How many jobs are queued or running."""
        return len(self._active)

    # -- waiting and closing -----------------------------------------------------------------

    async def wait(
        self, jobs: Iterable[Job | str] | Job | str | None = None, timeout: float | None = None
    ) -> list[Job]:
        """Wait until the given jobs (default: every queued or running job) are terminal.

        Returns the jobs' current records; raises ``TimeoutError`` after ``timeout`` seconds.
        """
        self._check_open()
        loop = self._running_loop()
        assert loop is not None
        self._pump()
        if jobs is None:
            remaining = None
            done = not self._active
            ids = None
        else:
            if isinstance(jobs, (Job, str)):
                jobs = [jobs]
            ids = [self._job(j).id for j in jobs]
            remaining = {j for j in ids if self._jobs[j].status in _ACTIVE}
            done = not remaining
        if not done:
            waiter = _Waiter(loop.create_future(), remaining)
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter.future), timeout)
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        if ids is None:
            return []
        return [self._jobs[j].copy() for j in ids]

    def close(self) -> None:
        """Stop every running job (its processes included), write everything and release the
        database. Queued and running jobs end cancelled."""
        if self._closed:
            return
        for job_id in list(self._active):
            job = self._jobs[job_id]
            if job.status in _ACTIVE:
                self._append_log(job.id, LogLevel.WARNING, "Cancelled: the engine was closed")
                self._finish(job, JobStatus.CANCELLED, "cancelled: the engine was closed")
        self._closed = True
        runners = {id(self.runner): self.runner}
        for pipeline in self._pipelines.values():
            for stage in pipeline:
                if stage.runner is not None:
                    runners[id(stage.runner)] = stage.runner
        for closable in [*runners.values(), self.executor]:
            try:
                closable.close()
            except Exception:
                log.exception("closing %r failed", closable)
        for task in self._tasks.values():
            task.cancel()
        self._sampler.close()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._store.close()
        _open_engines.discard(self)

    async def aclose(self) -> None:
        """Like :meth:`close`, then wait until the jobs' tasks have finished their clean-up."""
        tasks = list(self._tasks.values())
        self.close()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def closed(self) -> bool:
        return self._closed

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
        state = "closed" if self._closed else f"{len(self._active)} active jobs"
        return f"<Engine {where} max_concurrent={self.max_concurrent} {state}>"
