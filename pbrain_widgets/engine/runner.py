"""The runner contract: what a runner is, and the context the engine hands it for one job.

The engine owns this contract; the runners in :mod:`pbrain_widgets.runners` implement it. The
checks of what a runner reports (log levels, progress values) live here once, in
:class:`JobContext`, whichever side of a process or cluster boundary the context is on.
"""

from __future__ import annotations

import abc
import math
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError
from .models import QC_VERDICTS, LogLevel, Output, OutputKind

if TYPE_CHECKING:
    from .models import Job, Project, Subject
    from .pipeline import Stage


def check_progress(percent: object, eta_seconds: object = None) -> tuple[float, float | None]:
    """``(percent clamped to 0-100, eta in seconds or None)``, or :class:`InvalidArgumentError`."""
    try:
        value = float(percent)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"progress must be a number from 0 to 100, got {percent!r}") from None
    if math.isnan(value):
        raise InvalidArgumentError("progress must be a number from 0 to 100, got nan")
    eta = None
    if eta_seconds is not None:
        try:
            eta = float(eta_seconds)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            eta = math.nan
        if not math.isfinite(eta):
            raise InvalidArgumentError(
                f"eta_seconds must be a finite number of seconds or None, got {eta_seconds!r}"
            )
        eta = max(0.0, eta)
    return min(100.0, max(0.0, value)), eta


_SUFFIX_KINDS = {
    ".png": OutputKind.IMAGE,
    ".jpg": OutputKind.IMAGE,
    ".jpeg": OutputKind.IMAGE,
    ".svg": OutputKind.IMAGE,
    ".nii": OutputKind.MAP,
    ".nii.gz": OutputKind.MAP,
    ".csv": OutputKind.TABLE,
    ".tsv": OutputKind.TABLE,
}
OUTPUT_FIELDS = ("path", "kind", "label", "value", "unit", "group")
"""The keyword arguments of :meth:`JobContext.output`: what crosses a process or cluster
boundary when a worker reports an output."""
MAX_LABEL_CHARS = 200
MAX_VALUE_CHARS = 2000


def kind_of_path(path: str | os.PathLike[str]) -> OutputKind:
    """The output kind a file's name suggests (``file`` when nothing more is known)."""
    name = os.fspath(path).lower()
    for suffix, kind in _SUFFIX_KINDS.items():
        if name.endswith(suffix):
            return kind
    return OutputKind.FILE


def _short_text(name: str, value: object, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidArgumentError(
            f"output {name} must be a non-empty string of at most {limit} characters, got {value!r:.80}"
        )
    return value


def check_output(
    job_id: str,
    index: int,
    base: Path | None,
    path: object = None,
    kind: object = None,
    label: object = None,
    value: object = None,
    unit: object = None,
    group: object = None,
) -> Output:
    """The :class:`Output` a runner reports, checked; bad values raise
    :class:`InvalidArgumentError` naming them and what is valid.

    A relative ``path`` is taken from ``base`` (the subject's folder). ``kind`` defaults to what
    the file's name suggests (:func:`kind_of_path`), or ``value`` for an output without a file.
    """
    if kind is None:
        kind = OutputKind.VALUE if path is None else kind_of_path(str(path))
    try:
        kind = OutputKind(kind)
    except ValueError:
        valid = ", ".join(k.value for k in OutputKind)
        raise InvalidArgumentError(f"unknown output kind {kind!r}; valid kinds: {valid}") from None
    file: str | None = None
    if kind.has_file:
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise InvalidArgumentError(f"a {kind.value} output needs a file path, got {path!r}")
        where = Path(os.fspath(path)).expanduser()
        if not where.is_absolute():
            if base is None:
                raise InvalidArgumentError(
                    f"output path {os.fspath(path)!r} is relative and the subject has no folder to "
                    "take it from; give an absolute path"
                )
            where = base / where
        file = str(where)
        if value is not None:
            raise InvalidArgumentError(
                f"a {kind.value} output holds a file, not a value (got value={value!r:.80})"
            )
    else:
        if path is not None:
            raise InvalidArgumentError(
                f"a {kind.value} output holds a value, not a file (got path={path!r:.80})"
            )
        if kind is OutputKind.QC and value not in QC_VERDICTS:
            raise InvalidArgumentError(
                f"a qc output's value must be one of {list(QC_VERDICTS)}, got {value!r:.80}"
            )
        if isinstance(value, str):
            _short_text("value", value, MAX_VALUE_CHARS)
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgumentError(f"an output value must be a finite number, got {value!r}")
        elif not isinstance(value, (int, float)):  # bool is an int
            raise InvalidArgumentError(
                f"an output value must be a number, true/false or a string, got {value!r:.80}"
            )
    if label is None:
        label = Path(file).name if file is not None else None
        if label is None:
            raise InvalidArgumentError(f"a {kind.value} output needs a label")
    return Output(
        job_id=job_id,
        index=index,
        kind=kind,
        label=_short_text("label", label, MAX_LABEL_CHARS) or "",
        path=file,
        value=value,
        unit=_short_text("unit", unit, 40),
        group=_short_text("group", group, 100),
    )


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
        emit_log: Callable[[str, LogLevel, str], None],
        emit_progress: Callable[[str, float, str | None, float | None], None],
        track_pid: Callable[[str, int | None], None],
        emit_output: Callable[[Output], None],
        place: Callable[[str, str], None] | None = None,
        log_room: Callable[[str], Awaitable[None]] | None = None,
        max_concurrent: int | None = None,
    ) -> None:
        self.job_id = job.id
        self.max_concurrent = max_concurrent
        """How many jobs the engine runs at once (``None`` where unknown, e.g. on a Dask
        worker): runners share the machine's cores by it (BLAS/OpenMP thread limits)."""
        self.attempt = job.attempt
        self.options: dict[str, Any] = dict(job.runner_options or {})
        """Runner options of the run template that queued this job (empty without one)."""
        self.project = project
        self.subject = subject
        self.stage = stage
        self._emit_log = emit_log
        self._emit_progress = emit_progress
        self._track_pid = track_pid
        self._place = place
        self._log_room = log_room
        self._emit_output = emit_output
        self._outputs = 0

    @property
    def subject_dir(self) -> Path | None:
        """The subject's source folder, if it has one."""
        return Path(self.subject.source_path) if self.subject.source_path else None

    def log(self, level: LogLevel | str, message: str) -> None:
        """Append ``message`` (one or more lines) to the job's log at ``level``.

        ``level`` is a :class:`LogLevel` or its name (case-insensitive; ``WARN`` and ``CRITICAL``
        accepted); another value raises :class:`~pbrain_widgets.errors.InvalidArgumentError`.
        """
        self._emit_log(
            self.job_id, LogLevel.parse(level), message if isinstance(message, str) else str(message)
        )

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

        Without ``eta_seconds`` the engine estimates the time left from the progress rate. A
        value that is not a number (or an infinite ETA) raises
        :class:`~pbrain_widgets.errors.InvalidArgumentError`.
        """
        value, eta = check_progress(percent, eta_seconds)
        self._emit_progress(self.job_id, value, None if step is None else str(step), eta)

    def output(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        kind: OutputKind | str | None = None,
        label: str | None = None,
        value: str | float | bool | None = None,
        unit: str | None = None,
        group: str | None = None,
    ) -> Output:
        """Record something the job produced; the engine stores it with the job
        (``engine.get_outputs(job_id)``) and the monitors show it.

        A file (``path``, relative to the subject's folder or absolute) of kind ``image``,
        ``map``, ``table``, ``curve`` or ``file`` (default: from its name), or a ``value`` (a
        number or text, e.g. a QC metric, with its ``unit``) or ``qc`` verdict (``pass``,
        ``warn``, ``fail``). ``label`` names it (default: the file's name); ``group`` says what
        it belongs to within the stage. Bad values raise
        :class:`~pbrain_widgets.errors.InvalidArgumentError`.
        """
        out = check_output(
            self.job_id, self._outputs, self.subject_dir, path, kind, label, value, unit, group
        )
        self._outputs += 1
        self._emit_output(out)
        return out

    def track_process(self, pid: int | None) -> None:
        """Tell the engine the root process of this job's work (for CPU and memory sampling).

        ``None`` stops the sampling.
        """
        self._track_pid(self.job_id, pid)

    async def log_room(self) -> None:
        """Wait while too many of this job's log lines are still to be written (a runner that
        reads a flood of output calls it between reads, so that the output waits in the
        process's pipe rather than in memory); returns at once otherwise."""
        if self._log_room is not None:
            await self._log_room(self.job_id)

    def placed_on(self, worker: str) -> None:
        """Tell the engine where the job runs (an executor's worker, e.g. a Dask worker's
        address): shown by the Timeline as the job's worker and kept in its record."""
        if self._place is not None:
            self._place(self.job_id, str(worker))


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
