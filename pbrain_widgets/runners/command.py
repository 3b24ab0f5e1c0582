"""A runner that runs a command (an argv list, never a shell) for each job."""

from __future__ import annotations

import asyncio
import os
import shutil
import string
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..engine.runner import JobContext, Runner
from ..errors import InvalidArgumentError, JobFailed, NeedsUserAction
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

NEEDS_USER_ACTION_EXIT = 75
"""Exit code by which a command says the stage needs a user action (``EX_TEMPFAIL``).

The job ends failed and the subject's stage becomes ``waiting``; the last line of output
is the reason shown.
"""

PLACEHOLDERS = {
    "subject": "the subject's name",
    "subject_id": "the subject's id",
    "subject_dir": "the subject's source folder",
    "stage": "the stage id",
    "job_id": "the job id",
    "attempt": "the attempt number (1 for a first run)",
    "project": "the project's name",
    "project_id": "the project's id",
}
"""Placeholders an argv item, ``cwd`` or an ``env`` value may contain, as ``{name}``."""

TAIL_LINES = 10
"""Lines of output quoted in the error of a failed command."""
READ_SIZE = 8192  # about 400 short lines: a few milliseconds of work per loop turn


def _fields(template: str, what: str) -> list[str]:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise InvalidArgumentError(f"{what} {template!r} is not a valid template: {exc}") from None
    for name in names:
        if name not in PLACEHOLDERS:
            valid = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise InvalidArgumentError(
                f"unknown placeholder {{{name}}} in {what} {template!r}; valid placeholders: {valid} "
                "(write {{ and }} for literal braces)"
            )
    return names


class CommandRunner(Runner):
    """Runs ``argv_template`` for each job, in its own process group.

    Args:
        argv_template: the program and its arguments, as a list of strings. Each item may
            contain placeholders (see :data:`PLACEHOLDERS`), e.g.
            ``["pbrain", "run", "--subject-dir", "{subject_dir}"]``.
        env: variables added to the kernel's environment (values may hold placeholders).
            The job also gets ``PBRAIN_JOB_ID``, ``PBRAIN_SUBJECT``, ``PBRAIN_STAGE`` and
            ``PYTHONUNBUFFERED=1``.
        timeout: seconds after which the job fails and its processes are killed (None: none).
        cwd: working folder (may hold placeholders). Default: the subject's source folder if
            it has one, else the kernel's.
        grace: seconds between SIGTERM and SIGKILL when the job is cancelled or times out.
        threads: the BLAS / OpenMP threads each job's processes may use (``OMP_NUM_THREADS``,
            ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``... see
            :data:`~pbrain_widgets.runners.process.THREAD_VARIABLES`). Default (None):
            ``max(1, cores // max_concurrent)``, so that the jobs running at once share the cores
            instead of fighting over them, unless you set any of these variables yourself (in
            the kernel's environment or in ``env``). A variable in ``env`` always wins. On a
            Dask worker the default leaves the worker's own settings.

    Output (stdout and stderr, read as they come) goes to the job's log line by line with the
    levels and progress protocol of :mod:`pbrain_widgets.runners.lines`. Exit code 0 completes
    the job; :data:`NEEDS_USER_ACTION_EXIT` leaves the stage ``waiting``; any other code fails
    the job with the last lines of output in its error. When the command exits, processes it
    left behind are stopped too (even those that left its group: see
    :mod:`pbrain_widgets.runners.process`).
    """

    def __init__(
        self,
        argv_template: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        cwd: str | os.PathLike[str] | None = None,
        grace: float = GRACE_SECONDS,
        threads: int | None = None,
    ) -> None:
        if isinstance(argv_template, (str, bytes)) or not isinstance(argv_template, Sequence):
            raise InvalidArgumentError(
                f"argv_template must be a list of strings (it is never run by a shell), got {argv_template!r}"
            )
        argv = list(argv_template)
        if not argv:
            raise InvalidArgumentError("argv_template must name a program; got an empty list")
        for item in argv:
            if not isinstance(item, str):
                raise InvalidArgumentError(f"argv_template items must be strings, got {item!r} in {argv!r}")
            _fields(item, "argument")
        self.env = dict(env or {})
        for key, value in self.env.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidArgumentError(f"env names and values must be strings, got {key!r}: {value!r}")
            _fields(value, f"env value of {key}")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise InvalidArgumentError(f"timeout must be a number of seconds > 0 or None, got {timeout!r}")
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or not 0 <= grace <= 60:
            raise InvalidArgumentError(f"grace must be a number of seconds from 0 to 60, got {grace!r}")
        self.cwd = os.fspath(cwd) if cwd is not None else None
        if self.cwd is not None:
            _fields(self.cwd, "cwd")
        self.argv_template = argv
        self.timeout = timeout
        self.grace = float(grace)
        self.threads = check_threads(threads)
        self._groups: set[ProcessGroup] = set()
        if not _fields(argv[0], "program"):
            try:
                self._executable(argv[0])
            except JobFailed as exc:
                raise InvalidArgumentError(f"{exc} (searched PATH)") from None

    def __getstate__(self) -> dict[str, object]:
        """Picklable settings only (e.g. to run on a Dask worker): live process groups stay here."""
        return {**self.__dict__, "_groups": set()}

    def _executable(self, program: str) -> str:
        path = self.env.get("PATH", os.environ.get("PATH"))
        found = shutil.which(program, path=path)
        if found is None:
            raise JobFailed(f"executable not found: {program!r}")
        return found

    def _values(self, ctx: JobContext) -> dict[str, str]:
        return {
            "subject": ctx.subject.name,
            "subject_id": ctx.subject.id,
            "subject_dir": str(ctx.subject_dir) if ctx.subject_dir else "",
            "stage": ctx.stage.id,
            "job_id": ctx.job_id,
            "attempt": str(ctx.attempt),
            "project": ctx.project.name,
            "project_id": ctx.project.id,
        }

    def command(self, ctx: JobContext) -> list[str]:
        """The argv of this job, placeholders filled."""
        uses_dir = any("subject_dir" in _fields(item, "argument") for item in self.argv_template)
        if uses_dir:
            existing_subject_dir(ctx, required=True)
        values = self._values(ctx)
        return [item.format(**values) for item in self.argv_template]

    async def run(self, ctx: JobContext) -> None:
        argv = self.command(ctx)
        program = self._executable(argv[0])
        values = self._values(ctx)
        cwd: Path | None
        if self.cwd is not None:
            cwd = Path(self.cwd.format(**values))
            if not cwd.is_dir():
                raise JobFailed(f"working folder does not exist: {str(cwd)!r}")
        else:
            cwd = existing_subject_dir(ctx, required=False)
        env = {
            **os.environ,
            **thread_limits(self.threads, job_max_concurrent(ctx), self.env),
            **{k: v.format(**values) for k, v in self.env.items()},
            "PBRAIN_JOB_ID": ctx.job_id,
            "PBRAIN_SUBJECT": ctx.subject.name,
            "PBRAIN_STAGE": ctx.stage.id,
            "PYTHONUNBUFFERED": "1",
        }
        ctx.debug(f"$ {' '.join(argv)}")
        group = await ProcessGroup.start([program, *argv[1:]], cwd=cwd, env=env, grace=self.grace)
        self._groups.add(group)
        ctx.track_process(group.pid)
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        refused: list[str] = []
        proc = group.process
        assert proc.stdout is not None and proc.stderr is not None
        read = _Progress()
        readers = [
            asyncio.ensure_future(_pump(s, ctx, tail, read, refused)) for s in (proc.stdout, proc.stderr)
        ]
        try:
            try:
                code = await asyncio.wait_for(group.wait_exit(), self.timeout)
            except asyncio.TimeoutError:
                await group.stop(self.grace)
                await _finish_readers(readers, read)
                raise JobFailed(
                    f"timed out after {self.timeout:g} s; its processes were stopped" + _quote(tail)
                ) from None
            await group.stop(self.grace)
            await _finish_readers(readers, read)
        except asyncio.CancelledError:
            await asyncio.shield(group.stop(self.grace))
            raise
        finally:
            for reader in readers:
                reader.cancel()
            group.release()
            self._groups.discard(group)
        if code == 0 and refused:
            raise JobFailed(f"{argv[0]} reported a bad output: {refused[0]}")
        if code == 0:
            return
        if code == NEEDS_USER_ACTION_EXIT:
            raise NeedsUserAction(tail[-1] if tail else f"{argv[0]} asked for a user action")
        raise JobFailed(f"{argv[0]} {exit_description(code)}" + _quote(tail))

    def close(self) -> None:
        """Stop the processes of every job this runner is running (blocking, at most ~2 s)."""
        stop_groups(list(self._groups), self.grace)
        self._groups.clear()

    def __repr__(self) -> str:
        return f"CommandRunner({self.argv_template!r}, timeout={self.timeout!r}, threads={self.threads!r})"


def existing_subject_dir(ctx: JobContext, *, required: bool) -> Path | None:
    """The subject's source folder; :class:`JobFailed` if it is set but missing (or unset and
    ``required``)."""
    path = ctx.subject_dir
    if path is None:
        if required:
            raise JobFailed(f"subject {ctx.subject.name!r} has no source folder (source_path is not set)")
        return None
    if not path.is_dir():
        raise JobFailed(f"subject folder does not exist: {str(path)!r} (subject {ctx.subject.name!r})")
    return path


class _Progress:
    """How many chunks the readers of one job have read (they go on while it grows)."""

    chunks = 0


async def _pump(
    stream: asyncio.StreamReader, ctx: JobContext, tail: deque[str], read: _Progress, refused: list[str]
) -> None:
    splitter = LineSplitter()
    while chunk := await stream.read(READ_SIZE):
        read.chunks += 1
        for line in splitter.feed(chunk):
            _emit(ctx, line, tail, refused)
        # a read of buffered output returns without giving the loop a turn: give it one, so that
        # a flooding program never holds the engine's loop for more than one chunk; and leave the
        # output in the pipe while the store is behind (memory and GC pauses stay bounded)
        await asyncio.sleep(0)
        await ctx.log_room()
    for line in splitter.close():
        _emit(ctx, line, tail, refused)


def _emit(ctx: JobContext, line: str, tail: deque[str], refused: list[str]) -> None:
    error = report_line(ctx, line)
    if error is not None:
        refused.append(error)
    if line.strip():
        tail.append(line)


async def _finish_readers(
    readers: Sequence[asyncio.Future[None]], read: _Progress, seconds: float = 2.0
) -> None:
    """Let the readers take the output still in the pipes: as long as they keep reading (a
    flood may wait for the store), but no more than ``seconds`` without a new chunk (a leftover
    process could hold a pipe open)."""
    gathered = asyncio.gather(*readers)
    while True:
        before = read.chunks
        try:
            await asyncio.wait_for(asyncio.shield(gathered), seconds)
            return
        except asyncio.TimeoutError:
            if read.chunks == before:
                gathered.cancel()
                return


def _quote(tail: deque[str]) -> str:
    if not tail:
        return " (no output)"
    return "; last lines of output:\n" + "\n".join(tail)
