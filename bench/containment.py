"""Containment trials: does any process a job starts outlive its cancel, close() or a dead kernel?

Usage: ``.venv/bin/python bench/containment.py [--trials 100] [--batch 4]``

Each trial is one CommandRunner job whose processes all ignore SIGTERM, in one of two patterns:

- ``setsid``: the job's child starts a grandchild that calls ``setsid`` (a new session and group);
- ``daemon``: a classic double-forked daemon (fork, ``setsid``, fork again, the middle process
  exits), orphaned while the job runs on.

and one of three ends: ``cancel`` (``engine.cancel``), ``close`` (``engine.close()`` with the
job running) and ``kernel-kill`` (a stand-in kernel process running the engine is SIGKILLed).
``--batch`` jobs run at once per engine. Once every job's deepest process is up, the end comes;
a survivor is a process of a job still alive (not a zombie) 5 s later. Prints, per pattern and
end, the trials, the survivors and the slowest time until the last process of a batch was gone.
Survivors are killed before the script goes on.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PATTERNS = ("setsid", "daemon")
ENDS = ("cancel", "close", "kernel-kill")
DEADLINE = 5.0
"""Seconds after the end within which every process of the job must be gone."""
GRACE = 0.2
"""The runner's grace between SIGTERM and SIGKILL (every process here ignores SIGTERM)."""
READY_TIMEOUT = 60.0


def _stubborn() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _me(mode: str, *args: str) -> list[str]:
    return [sys.executable, os.path.abspath(__file__), mode, *args]


def job(pattern: str, marker: str, ready: str) -> None:
    """The job's program (``--job``): builds its pattern's process tree, then sleeps."""
    _stubborn()
    if pattern == "setsid":
        subprocess.Popen(_me("--child", marker, ready))
    else:
        middle = os.fork()
        if middle == 0:
            os.setsid()
            if os.fork():
                os._exit(0)
            os.execv(sys.executable, _me("--sleep", marker, ready))
        os.waitpid(middle, 0)
    time.sleep(600)


def child(marker: str, ready: str) -> None:
    """The setsid pattern's child (``--child``): its own child leaves the group and session."""
    _stubborn()
    subprocess.Popen(_me("--sleep", marker, ready), start_new_session=True)
    time.sleep(600)


def sleep(marker: str, ready: str) -> None:
    """The deepest process (``--sleep``): says it is up, then sleeps."""
    _stubborn()
    Path(ready, marker).touch()
    time.sleep(600)


def start_jobs(pattern: str, prefix: str, ready: str, batch: int) -> tuple[Any, list[Any]]:
    """An engine running ``batch`` jobs of ``pattern``; their processes carry ``prefix-t<i>``."""
    from pbrain_widgets import Engine, Pipeline, Stage
    from pbrain_widgets.runners.command import CommandRunner

    runner = CommandRunner(_me("--job", pattern, prefix + "-{subject}", ready), grace=GRACE)
    engine = Engine(db_path=":memory:", max_concurrent=batch, runner=runner)
    project = engine.create_project("containment", Pipeline([Stage("work", "Work")], name="one"))
    engine.add_subjects(project.id, [f"t{i}" for i in range(batch)])
    return engine, engine.run_pipeline(project.id)


def kernel(pattern: str, prefix: str, ready: str, batch: int) -> None:
    """A stand-in kernel (``--kernel``): runs the jobs until it is killed."""
    start_jobs(pattern, prefix, ready, batch)
    time.sleep(600)


def job_processes(prefix: str) -> list[Any]:
    """Live processes (zombies excluded) with an argument ``prefix-...``."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        args = proc.info["cmdline"] or []
        if proc.info["status"] != psutil.STATUS_ZOMBIE and any(a.startswith(prefix + "-") for a in args):
            found.append(proc)
    return found


def wait_ready(ready: Path, prefix: str, batch: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while len(list(ready.glob(prefix + "-*"))) < batch:
        if time.monotonic() > deadline:
            raise SystemExit(f"jobs of {prefix} did not start within {READY_TIMEOUT:g} s")
        time.sleep(0.02)


def one_round(pattern: str, end: str, batch: int, tmp: Path, name: str) -> tuple[int, float]:
    """Run ``batch`` jobs to their ``end``: (survivors, seconds until the last process was gone)."""
    prefix = f"pbw-containment-{os.getpid()}-{name}"
    ready = tmp / name
    ready.mkdir()
    kernel_process = engine = None
    if end == "kernel-kill":
        kernel_process = subprocess.Popen(_me("--kernel", pattern, prefix, str(ready), str(batch)))
    else:
        engine, jobs = start_jobs(pattern, prefix, str(ready), batch)
    try:
        wait_ready(ready, prefix, batch)
        start = time.monotonic()
        if kernel_process is not None:
            kernel_process.send_signal(signal.SIGKILL)
            kernel_process.wait()
        elif end == "cancel":
            for item in jobs:
                engine.cancel(item.id)
        else:
            engine.close()
        while (left := job_processes(prefix)) and time.monotonic() - start < DEADLINE:
            time.sleep(0.02)
        took = time.monotonic() - start
        for proc in left:
            print(f"  survivor ({pattern}, {end}): {proc.pid} {' '.join(proc.info['cmdline'])}")
            proc.kill()
        return len(left), took
    finally:
        if engine is not None:
            engine.close()
        if kernel_process is not None and kernel_process.poll() is None:
            kernel_process.kill()
            kernel_process.wait()


Row = tuple[str, str, int, int, float]


def run(trials: int, batch: int, combos: list[tuple[str, str]] | None = None) -> list[Row]:
    """Every (pattern, end), ``trials`` jobs each: rows (pattern, end, trials, survivors, slowest s)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="pbw-containment-") as tmp:
        for pattern, end in combos or [(p, e) for p in PATTERNS for e in ENDS]:
            survivors, slowest, done = 0, 0.0, 0
            while done < trials:
                size = min(batch, trials - done)
                left, took = one_round(pattern, end, size, Path(tmp), f"{pattern}-{end}-{done}")
                survivors += left
                slowest = max(slowest, took)
                done += size
            rows.append((pattern, end, trials, survivors, slowest))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100, help="jobs per pattern and end")
    parser.add_argument("--batch", type=int, default=4, help="jobs running at once per engine")
    args = parser.parse_args()
    print(f"{args.trials} trials per pattern and end, {args.batch} jobs at once, {os.cpu_count()} CPUs")
    print(f"{'pattern':8} {'end':12} {'trials':>6} {'survivors':>9} {'slowest gone':>12}")
    total = 0
    for pattern, end, trials, survivors, slowest in run(args.trials, args.batch):
        print(f"{pattern:8} {end:12} {trials:6d} {survivors:9d} {slowest:10.2f} s")
        total += survivors
    print(f"survivors in all: {total}")


MODES = {"--job": job, "--child": child, "--sleep": sleep}

if __name__ == "__main__":
    if sys.argv[1:2] and sys.argv[1] in MODES:
        MODES[sys.argv[1]](*sys.argv[2:])
    elif sys.argv[1:2] == ["--kernel"]:
        kernel(*sys.argv[2:5], int(sys.argv[5]))
    else:
        main()
