"""Runs one command and keeps every process it starts contained, down to the last descendant.

Usage: ``python -I -S guard.py LIFELINE_FD GRACE PROGRAM [ARGS...]`` (Linux). Started by
:class:`pbrain_widgets.runners.process.ProcessGroup`. The guard

- makes itself the leader of a new process group in the kernel's session (a new session would be
  a CFS scheduling group of its own, and the BLAS threads of two jobs would fight);
- becomes a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``): a descendant whose parent exits
  (a double-forked daemon, the child of a killed process) is reparented to the guard instead of
  init, so every process of the job stays in the guard's tree whatever its group or session;
- forks and execs the program and waits for it, reaping the orphans it inherits;
- when the program has exited, stops what it left behind (SIGTERM, up to ``GRACE`` seconds,
  then SIGKILL) and exits with the program's status: the signal that killed the program (e.g.
  SIGKILL from the OOM killer) kills the guard too, so the kernel sees the same status;
- when ``LIFELINE_FD`` (the read end of a pipe whose only write end the kernel holds) reaches
  end-of-file, because the kernel closed it to stop the job or died (even by SIGKILL), SIGKILLs
  its whole tree, again and again until it has no child left, and exits.

The guard ignores SIGTERM, SIGINT and SIGHUP: cancelling sends SIGTERM to the whole group, and the
guard must outlive the program to contain what it leaves. Only the standard library is used
(this file is run by path, without importing the package, to start in a few milliseconds).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import select
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
_POLL = 0.005


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(errno)}")


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` in the process tree (read from /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                data = stat.read()
        except OSError:  # it ended meanwhile
            continue
        # the command name may hold spaces and parentheses: the fields after the last ")"
        # are "state ppid ..."
        ppid = int(data[data.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found, todo = [], [root]
    while todo:
        for kid in children.get(todo.pop(), ()):
            found.append(kid)
            todo.append(kid)
    return found


class _Guard:
    def __init__(self, program: int) -> None:
        self.program = program
        self.status: int | None = None

    def reap(self) -> bool:
        """Reap every child that has exited; True while the guard still has a child."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return False
            if pid == 0:
                return True
            if pid == self.program:
                self.status = status

    def signal_tree(self, sig: int) -> None:
        for pid in _descendants(os.getpid()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def kill_tree(self) -> None:
        """SIGKILL every descendant until none is left (a process forking meanwhile is killed
        too: its new child, orphaned, comes to the guard and is found on the next round)."""
        while self.reap():
            self.signal_tree(signal.SIGKILL)
            time.sleep(_POLL)


def _exit_like(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return code
    sig = -code
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a re-raised SIGSEGV must not dump the guard
    if sig != signal.SIGKILL:  # SIGKILL's disposition cannot be changed (nor needs to be)
        signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    return 128 + sig  # only reached if the signal does not end a process by default


def main(argv: list[str]) -> int:
    lifeline, grace, program = int(argv[0]), float(argv[1]), argv[2:]
    os.setpgid(0, 0)
    _become_subreaper()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    # A handler (SIG_IGN would make the kernel reap children unseen) whose only effect is the
    # byte on the wakeup pipe that ends select().
    signal.signal(signal.SIGCHLD, lambda *_: None)
    pid = os.fork()
    if pid == 0:
        os.close(lifeline)
        # Python ignores SIGPIPE and SIGXFSZ; an exec'd program expects the defaults.
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(program[0], program)
        except OSError as exc:
            os.write(2, f"ERROR: cannot run {program[0]!r}: {exc.strerror}\n".encode())
        os._exit(127)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    guard = _Guard(pid)
    kill_at: float | None = None
    while guard.reap():
        if guard.status is not None and kill_at is None:  # the program ended: stop what it left
            guard.signal_tree(signal.SIGTERM)
            kill_at = time.monotonic() + grace
        timeout = None if kill_at is None else kill_at - time.monotonic()
        if timeout is not None and timeout <= 0:
            guard.kill_tree()
            break
        ready, _, _ = select.select([lifeline, wake_read], [], [], timeout)
        if wake_read in ready:
            os.read(wake_read, 4096)
        if lifeline in ready and not os.read(lifeline, 4096):
            guard.kill_tree()
    assert guard.status is not None  # the program was a child, and no child is left
    return _exit_like(guard.status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
