"""Process groups for jobs: start a program in its own group, stop it and everything it started.

Each job's processes live in one new process group (in the kernel's session: see ``guard.py``)
whose leader is a small guard holding a lifeline pipe to the kernel. The guard is a child
subreaper (Linux), so every descendant of the job stays in its tree, even one that called
``setsid`` or double-forked to become a daemon:

- stopping sends SIGTERM to the group and to the descendants outside it, waits up to a grace
  period, then closes the lifeline, on which the guard SIGKILLs its whole tree until no process
  is left, and exits;
- if the kernel dies without stopping its jobs (even by SIGKILL), the lifeline reaches
  end-of-file all the same, so nothing is orphaned;
- when the program exits by itself, the guard stops what it left behind (SIGTERM, grace,
  SIGKILL) before it exits with the program's status;
- an ``atexit`` hook stops whatever is still running when the interpreter exits normally.

A zombie (a dead process not yet reaped by its parent) counts as gone: it runs nothing and holds
no memory.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import psutil

from ..engine.runner import JobContext
from ..errors import check_count

GRACE_SECONDS = 1.0
"""Default time between SIGTERM and SIGKILL when a job is stopped."""
KILL_WAIT_SECONDS = 1.0
"""How long to wait for the processes to vanish after SIGKILL."""
_POLL = 0.02
_EXIT_POLL = 0.05
GUARD = Path(__file__).with_name("guard.py")
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
)
"""Environment variables that bound the threads of OpenMP and BLAS libraries (numpy, scipy...)
in a job's processes (see :func:`thread_limits`)."""

_live: set[ProcessGroup] = set()


class ProcessGroup:
    """A program running under a guard in its own process group (see the module docstring).

    Create with :meth:`start`; ``process`` is the asyncio process of the group leader (the
    guard), whose exit status is the program's.
    """

    def __init__(self, process: asyncio.subprocess.Process, lifeline: int) -> None:
        self.process = process
        self.pid = process.pid
        self.pgid = process.pid
        self._lifeline: int | None = lifeline
        self._root = _process(self.pid)
        self._known: dict[int, psutil.Process] = {}
        _live.add(self)

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        stdin: int = subprocess.DEVNULL,
        stdout: int = subprocess.PIPE,
        stderr: int = subprocess.PIPE,
        grace: float = GRACE_SECONDS,
    ) -> ProcessGroup:
        """Start ``argv`` (a list; never run by a shell) under a guard in a new process group.

        ``grace`` is the time the guard gives what the program leaves behind between SIGTERM
        and SIGKILL when the program exits by itself.
        """
        read_end, write_end = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                str(GUARD),
                str(read_end),
                repr(float(grace)),
                *argv,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                pass_fds=(read_end,),
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        return cls(process, write_end)

    async def wait_exit(self) -> int:
        """The leader's exit status, once it exits.

        Unlike ``process.wait()`` this does not also wait for the output pipes to close, which a
        process left behind in the background could keep open.
        """
        while (code := self.process.returncode) is None:
            await asyncio.sleep(_EXIT_POLL)
        return code

    def members(self) -> list[psutil.Process]:
        """Processes of this job still alive: the guard, its descendants and its group."""
        found: dict[int, psutil.Process] = {}
        if self._root is not None:
            with contextlib.suppress(psutil.Error):
                for child in self._root.children(recursive=True):
                    found[child.pid] = self._known.get(child.pid, child)
        for pid in psutil.pids():
            if pid in found:
                continue
            try:
                in_group = os.getpgid(pid) == self.pgid
            except OSError:
                continue
            if in_group:
                proc = self._known.get(pid) or _process(pid)
                if proc is not None:
                    found[pid] = proc
        for pid, proc in self._known.items():
            found.setdefault(pid, proc)
        alive = {}
        for pid, proc in found.items():
            if _running(proc):
                alive[pid] = proc
        self._known = alive
        return list(alive.values())

    def terminate(self) -> None:
        """SIGTERM to the group and to every member outside it (the guard ignores it)."""
        members = self.members()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signal.SIGTERM)
        for proc in members:
            with contextlib.suppress(psutil.Error):
                proc.terminate()

    def kill(self) -> None:
        """Have the guard SIGKILL every process of the job (it then exits).

        Closing the lifeline is the order. A guard that is already gone (killed from outside)
        cannot obey: the members the kernel still knows of are SIGKILLed directly.
        """
        self.close_lifeline()
        if self._root is None or not _running(self._root):
            for proc in self.members():
                with contextlib.suppress(psutil.Error):
                    proc.kill()

    async def stop(self, grace: float = GRACE_SECONDS) -> bool:
        """SIGTERM, up to ``grace`` seconds, then SIGKILL of the whole tree by the guard; True
        once no member is left."""
        try:
            if not self.members():
                return True
            self.terminate()
            if await self._wait_gone(grace):
                return True
            self.kill()
            return await self._wait_gone(KILL_WAIT_SECONDS)
        finally:
            self.close_lifeline()

    async def _wait_gone(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        # Also until asyncio has the guard's exit status: closing the transport before that
        # would reap the guard behind asyncio's back ("Unknown child process pid ...").
        while self.members() or self.process.returncode is None:
            if time.monotonic() >= deadline:
                return not self.members()
            await asyncio.sleep(_POLL)
        return True

    def close_lifeline(self) -> None:
        """Close the kernel's end of the lifeline (the guard then SIGKILLs what is left)."""
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
        _live.discard(self)

    def release(self) -> None:
        """Close the lifeline and the pipes: call once the group's output is no longer needed."""
        self.close_lifeline()
        transport = getattr(self.process, "_transport", None)
        if transport is not None and not transport.is_closing():
            with contextlib.suppress(RuntimeError):  # its loop is already closed
                transport.close()


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _running(proc: psutil.Process) -> bool:
    """Alive and not a zombie (a zombie runs nothing and holds no memory)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def exit_description(code: int) -> str:
    """How a process ended, from its exit status (negative: the signal that killed it)."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"was killed by signal {-code}"
    # SIGKILL comes from a user, or from the kernel's OOM killer when memory ran out
    hint = " — possibly out of memory" if -code == signal.SIGKILL else ""
    return f"was killed by {name} (signal {-code}){hint}"


def check_threads(threads: object) -> int | None:
    """A runner's ``threads`` argument: None (automatic) or an integer >= 1."""
    return check_count("threads", threads, optional=True, minimum=1)


def cores() -> int:
    """The CPUs this process may run on (its affinity, e.g. a container's share)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_limits(
    threads: int | None, max_concurrent: int | None, runner_env: Mapping[str, str]
) -> dict[str, str]:
    """The :data:`THREAD_VARIABLES` to put in a job process's environment.

    Without limits, each of ``max_concurrent`` jobs would start as many BLAS / OpenMP threads as
    there are cores, and they would fight over the cores. So:

    - ``threads`` given (a runner's ``threads=``): every variable is set to it, except those
      in the runner's own ``runner_env``, which win;
    - otherwise, ``max(1, cores // max_concurrent)``, unless the user already set any of the
      variables (in the kernel's environment or ``runner_env``: then they are left as they are)
      or ``max_concurrent`` is unknown (None: nothing is set).
    """
    if threads is None:
        user_set = any(name in os.environ or name in runner_env for name in THREAD_VARIABLES)
        if max_concurrent is None or user_set:
            return {}
        threads = max(1, cores() // max_concurrent)
    return {name: str(threads) for name in THREAD_VARIABLES if name not in runner_env}


def job_max_concurrent(ctx: JobContext) -> int | None:
    """How many jobs the engine of ``ctx`` runs at once, where it says so.

    A context made on a Dask worker does not: there the worker's own thread settings stay.
    """
    value = ctx.max_concurrent
    return value if isinstance(value, int) and value >= 1 else None


def stop_groups(groups: Iterable[ProcessGroup], grace: float = GRACE_SECONDS) -> None:
    """Stop several groups at once, blocking (for ``close()`` and interpreter exit)."""
    groups = list(groups)
    for group in groups:
        if group.members():
            group.terminate()
    for seconds in (grace, KILL_WAIT_SECONDS):
        deadline = time.monotonic() + seconds
        while any(g.members() for g in groups) and time.monotonic() < deadline:
            time.sleep(_POLL)
        for group in groups:
            group.kill()
    for group in groups:
        group.release()


@atexit.register
def _stop_live_groups() -> None:
    stop_groups(list(_live))
