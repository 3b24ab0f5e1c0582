"""A warm worker process for :class:`~pbrain_widgets.runners.function.FunctionRunner`.

Usage: ``python worker.py [MODULE_TO_PRELOAD ...]`` (run by path, under the guard of
:mod:`pbrain_widgets.runners.process`). The kernel sends jobs on stdin; the worker answers on
the file descriptor that was its stdout, while its fd 1 and fd 2 both go to its stderr pipe, so
``print`` output (and that of child processes) lands in the job's log as text lines. Frames are
a 4-byte big-endian length and a pickle. Kernel to worker: ``("run", sys_path, cwd, fn, kwargs,
info, log_level)``. Worker to kernel: ``("log", level, message)``, ``("progress", percent, step,
eta_seconds)``, ``("output", {field: value})`` (the arguments of ``JobContext.output``), then
``("done",)`` or ``("error", kind, summary, traceback_text)`` with kind ``failed``,
``needs_user_action`` or ``exception``. Before each ``done``/``error`` frame the worker writes
:data:`END_MARK` on its stderr, so the kernel knows all text output of the job has arrived.
End-of-file on stdin makes the worker exit.

Only the standard library is imported here: the function's own module is imported when its
first job is unpickled, and stays imported for the next jobs (that is what keeps it warm).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import io
import logging
import os
import pickle
import struct
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

END_MARK = "\x00pbrain-widgets-job-end\x00"
_HEADER = struct.Struct(">I")


def read_frame(fd: int) -> Any | None:
    """The next frame on ``fd``, or None at end-of-file."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(fd, _HEADER.unpack(header)[0])
    return None if body is None else pickle.loads(body)


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def frame(message: tuple[Any, ...]) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


class _Channel:
    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, *message: Any) -> None:
        data = frame(message)
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]


class TaskContext:
    """What the function receives: who it runs for, and how to report back to the job.

    Attributes: ``job_id``, ``attempt``, ``project`` (name), ``subject`` (name),
    ``subject_dir`` (:class:`~pathlib.Path` or None), ``stage`` (id).
    """

    def __init__(self, channel: _Channel, info: dict[str, Any]) -> None:
        self._channel = channel
        self.job_id: str = info["job_id"]
        self.attempt: int = info["attempt"]
        self.project: str = info["project"]
        self.subject: str = info["subject"]
        self.stage: str = info["stage"]
        self.subject_dir: Path | None = Path(info["subject_dir"]) if info["subject_dir"] else None

    def log(self, level: str, message: str) -> None:
        """Add ``message`` to the job's log at ``level`` (DEBUG, INFO, PROGRESS, WARNING, ERROR,
        SUCCESS). The kernel checks the level; an unknown one fails the job, naming it."""
        self._channel.send("log", str(level), str(message))

    def debug(self, message: str) -> None:
        self.log("DEBUG", message)

    def info(self, message: str) -> None:
        self.log("INFO", message)

    def warning(self, message: str) -> None:
        self.log("WARNING", message)

    def error(self, message: str) -> None:
        self.log("ERROR", message)

    def success(self, message: str) -> None:
        self.log("SUCCESS", message)

    def progress(self, percent: float, step: str | None = None, eta_seconds: float | None = None) -> None:
        """Set the job's progress (0-100) and, optionally, its current step and time left.

        The kernel checks the values; one that is not a number fails the job, naming it."""
        self._channel.send("progress", _plain_number(percent), step, _plain_number(eta_seconds))

    def output(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        kind: str | None = None,
        label: str | None = None,
        value: Any = None,
        unit: str | None = None,
        group: str | None = None,
    ) -> None:
        """Record something the job produced: a file (``path``, relative to the subject's folder
        or absolute; ``kind`` image, map, table, curve or file, default from its name) or a
        ``value`` / ``qc`` verdict. See :meth:`pbrain_widgets.engine.runner.JobContext.output`;
        the kernel checks the values, and a bad one fails the job, naming it."""
        fields = {"path": None if path is None else os.fspath(path), "kind": kind, "label": label}
        fields.update(value=value if value is None or isinstance(value, str) else _plain_number(value))
        fields.update(unit=unit, group=group)
        self._channel.send("output", fields)


def _plain_number(value: Any) -> Any:
    """A float where one can be made (numpy scalars...), else the value's text for the error."""
    if value is None or isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(value)


class _LogForwarder(logging.Handler):
    """Sends the worker's ``logging`` records to the job's log."""

    def __init__(self, channel: _Channel) -> None:
        super().__init__()
        self._channel = channel
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.levelno >= logging.ERROR:
                level = "ERROR"
            elif record.levelno >= logging.WARNING:
                level = "WARNING"
            elif record.levelno >= logging.INFO:
                level = "INFO"
            else:
                level = "DEBUG"
            self._channel.send("log", level, self.format(record))
        except Exception:
            self.handleError(record)


def _kind(exc: BaseException) -> str:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "NeedsUserAction" in names:
        return "needs_user_action"
    if "JobFailed" in names:
        return "failed"
    return "exception"


def _run(channel: _Channel, handler: _LogForwarder, message: tuple[Any, ...]) -> None:
    _, sys_path, cwd, payload, info, log_level = message
    for entry in reversed(sys_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    try:
        os.chdir(info["subject_dir"] or cwd)
        handler.setLevel(log_level)
        # Not lower: below it, libraries would build records nobody reads (PIL, matplotlib).
        logging.getLogger().setLevel(log_level)
        fn, kwargs = pickle.loads(payload)
        result = fn(TaskContext(channel, info), **kwargs)
        if inspect.isawaitable(result):
            asyncio.run(_awaited(result))
    except (Exception, SystemExit) as exc:  # the job fails, the worker lives on
        _end_of_output()
        channel.send("error", _kind(exc), f"{type(exc).__name__}: {exc}", traceback.format_exc())
        return
    _end_of_output()
    channel.send("done")


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _end_of_output() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(2, ("\n" + END_MARK + "\n").encode())


def main(preload: list[str]) -> int:
    # Run by path, this file's folder came first on sys.path, where it would shadow packages
    # (its pbrain.py would hide p-brain's ``pbrain``).
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    channel = _Channel(os.dup(1))
    os.dup2(2, 1)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):  # as it is when run as a script
            stream.reconfigure(line_buffering=True)
    handler = _LogForwarder(channel)
    root = logging.getLogger()
    root.addHandler(handler)
    for name in preload:
        importlib.import_module(name)
    while (message := read_frame(0)) is not None:
        _run(channel, handler, message)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
