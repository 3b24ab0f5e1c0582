"""Process groups for jobs: start a program in its own session, stop it and everything it started.

Each job's processes live in one new session and process group whose leader is a small guard
(``guard.py``) holding a lifeline pipe to the kernel:

- stopping sends SIGTERM to the group, waits up to a grace period, then SIGKILLs the group and
  waits until no process of it is left (descendants that left the group with ``setsid`` are
  found through the process tree and killed too);
- if the kernel dies without stopping its jobs (even by SIGKILL), the lifeline pipe reaches
  end-of-file and the guard SIGKILLs the group, so nothing is orphaned;
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

GRACE_SECONDS = 1.0
"""Default time between SIGTERM and SIGKILL when a job is stopped."""
KILL_WAIT_SECONDS = 1.0
"""How long to wait for the processes to vanish after SIGKILL."""
_POLL = 0.02
_EXIT_POLL = 0.05
GUARD = Path(__file__).with_name("guard.py")

_live: set[ProcessGroup] = set()


class ProcessGroup:
    """A program running in its own session and process group (see the module docstring).

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
    ) -> ProcessGroup:
        """Start ``argv`` (a list; never run by a shell) under a guard in a new session."""
        read_end, write_end = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                str(GUARD),
                str(read_end),
                *argv,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
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
        """Processes of this job still alive: the group, and descendants that left it."""
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
            with contextlib.suppress(psutil.Error):
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive[pid] = proc
        self._known = alive
        return list(alive.values())

    def send(self, sig: int) -> None:
        """Send ``sig`` to the group and to every known member outside it."""
        members = self.members()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)
        for proc in members:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)

    async def stop(self, grace: float = GRACE_SECONDS) -> bool:
        """SIGTERM, up to ``grace`` seconds, SIGKILL; True once no member is left."""
        try:
            if not self.members():
                return True
            self.send(signal.SIGTERM)
            if await self._wait_gone(grace):
                return True
            self.send(signal.SIGKILL)
            return await self._wait_gone(KILL_WAIT_SECONDS)
        finally:
            self.close_lifeline()

    async def _wait_gone(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while self.members():
            if time.monotonic() >= deadline:
                return False
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


def stop_groups(groups: Iterable[ProcessGroup], grace: float = GRACE_SECONDS) -> None:
    """Stop several groups at once, blocking (for ``close()`` and interpreter exit)."""
    groups = list(groups)
    for group in groups:
        if group.members():
            group.send(signal.SIGTERM)
    for sig, seconds in ((signal.SIGKILL, grace), (None, KILL_WAIT_SECONDS)):
        deadline = time.monotonic() + seconds
        while any(g.members() for g in groups) and time.monotonic() < deadline:
            time.sleep(_POLL)
        if sig is not None:
            for group in groups:
                if group.members():
                    group.send(sig)
    for group in groups:
        group.release()


@atexit.register
def _stop_live_groups() -> None:
    stop_groups(list(_live))
