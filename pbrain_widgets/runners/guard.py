"""Runs one command and takes its whole process group down if the kernel goes away.

Usage: ``python -I -S guard.py LIFELINE_FD PROGRAM [ARGS...]``. Started by
:class:`pbrain_widgets.runners.process.ProcessGroup` as the leader of a new session; it forks
and execs the program, then waits for it and exits with its status. ``LIFELINE_FD`` is the read
end of a pipe whose only write end the kernel holds: when the kernel process ends, however it
ends (even SIGKILL), the read returns end-of-file and the guard SIGKILLs its process group, so
no process of the job outlives the kernel. Only the standard library is used (this file is run
by path, without importing the package, to start in a few milliseconds).
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def _watch_lifeline(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, 4096):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    os.killpg(0, signal.SIGKILL)


def main(argv: list[str]) -> int:
    lifeline = int(argv[0])
    program = argv[1:]
    pid = os.fork()
    if pid == 0:
        os.close(lifeline)
        try:
            os.execvp(program[0], program)
        except OSError as exc:
            os.write(2, f"ERROR: cannot run {program[0]!r}: {exc.strerror}\n".encode())
        os._exit(127)
    # The group gets SIGTERM on cancel; the guard stays to the end to keep the lifeline.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    threading.Thread(target=_watch_lifeline, args=(lifeline,), daemon=True).start()
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
