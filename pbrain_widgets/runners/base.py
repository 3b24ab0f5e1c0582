"""What a runner is, and the context the engine hands it for one job."""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.models import LogLevel

if TYPE_CHECKING:
    from ..engine.models import Job, Project, Subject
    from ..engine.pipeline import Stage


class JobContext:
    """The handle a runner uses to report on the one job it runs.

    ``log`` and ``progress`` go straight to the engine (events, stored log, job record).
    Cancelling the job cancels the runner's coroutine (``asyncio.CancelledError`` is raised at
    its next ``await``); a runner that starts processes must stop them then.
    """

    def __init__(
        self,
        job: Job,
        project: Project,
        subject: Subject,
        stage: Stage,
        *,
        emit_log: Callable[[str, LogLevel | str, str], None],
        emit_progress: Callable[[str, float, str | None, float | None], None],
        track_pid: Callable[[str, int | None], None],
    ) -> None:
        self.job_id = job.id
        self.attempt = job.attempt
        self.project = project
        self.subject = subject
        self.stage = stage
        self._emit_log = emit_log
        self._emit_progress = emit_progress
        self._track_pid = track_pid

    @property
    def subject_dir(self) -> Path | None:
        """The subject's source folder, if it has one."""
        return Path(self.subject.source_path) if self.subject.source_path else None

    def log(self, level: LogLevel | str, message: str) -> None:
        """Append ``message`` (one or more lines) to the job's log at ``level``."""
        self._emit_log(self.job_id, level, message)

    def debug(self, message: str) -> None:
        self.log(LogLevel.DEBUG, message)

    def info(self, message: str) -> None:
        self.log(LogLevel.INFO, message)

    def warning(self, message: str) -> None:
        self.log(LogLevel.WARNING, message)

    def error(self, message: str) -> None:
        self.log(LogLevel.ERROR, message)

    def success(self, message: str) -> None:
        self.log(LogLevel.SUCCESS, message)

    def progress(self, percent: float, step: str | None = None, eta_seconds: float | None = None) -> None:
        """Set the job's progress (0-100) and current step.

        Without ``eta_seconds`` the engine estimates the time left from the progress rate.
        """
        self._emit_progress(self.job_id, percent, step, eta_seconds)

    def track_process(self, pid: int | None) -> None:
        """Tell the engine the root process of this job's work (for CPU and memory sampling).

        ``None`` stops the sampling.
        """
        self._track_pid(self.job_id, pid)


class Runner(abc.ABC):
    """Executes one stage for one subject. Subclasses implement :meth:`run`.

    ``run`` returns normally when the work completed; it raises to fail the job
    (:class:`~pbrain_widgets.errors.JobFailed` for a plain message,
    :class:`~pbrain_widgets.errors.NeedsUserAction` to leave the stage ``waiting``,
    any other exception to fail with its traceback in the log).
    """

    @abc.abstractmethod
    async def run(self, ctx: JobContext) -> None:
        """Do the work of ``ctx.stage`` for ``ctx.subject``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the runner keeps between jobs (warm worker processes...)."""
