"""Log flood: the engine's loop lag while one job logs 1,000,000 lines.

One job logs ``--lines`` short lines as fast as it can: with ``--source command`` (default) a
process prints them and :class:`CommandRunner` reads them; with ``--source runner`` a runner on
the engine's loop logs them 1,000 per loop turn (the engine's logging and store alone). A probe on
the engine's own loop sleeps 5 ms at a time and records how late it wakes up, until every line is
in the job's log file. Prints the worst and the 99th-percentile lag (target: worst under 50 ms),
the lines on disk, and as a baseline the worst lag of the same probe on the idle engine.

    python bench/log_flood.py [--lines 1000000] [--source command|runner] [--memory]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from pbrain_widgets import CommandRunner, Engine, JobContext, Pipeline, Runner, Stage

TICK = 0.005
PRINTER = "import sys\nw = sys.stdout.write\nfor i in range(%d): w('line %%d of the flood\\n' %% i)\n"


class FloodRunner(Runner):
    """Logs ``lines`` lines, yielding to the loop after every 1,000 (as a pipe reader would)."""

    def __init__(self, lines: int) -> None:
        self.lines = lines

    async def run(self, ctx: JobContext) -> None:
        for i in range(self.lines):
            ctx.info(f"line {i} of the flood")
            if i % 1000 == 999:
                await asyncio.sleep(0)


async def probe(stop: threading.Event) -> list[float]:
    """How late each 5 ms sleep on the running loop wakes up, until ``stop`` is set."""
    loop = asyncio.get_running_loop()
    lags = []
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(TICK)
        lags.append(loop.time() - start - TICK)
    return lags


def lines_in(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--source", choices=("command", "runner"), default="command")
    parser.add_argument("--memory", action="store_true", help="a :memory: engine (logs in /dev/shm)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.source == "command":
            runner: Runner = CommandRunner([sys.executable, "-c", PRINTER % args.lines], cwd=tmp)
        else:
            runner = FloodRunner(args.lines)
        engine = Engine(":memory:" if args.memory else f"{tmp}/flood.sqlite", runner=runner)
        project = engine.create_project("flood", pipeline=Pipeline([Stage("flood")]))
        engine.add_subjects(project.id, ["sub-01"])
        idle_stop = threading.Event()
        idle_future = engine.submit(probe(idle_stop))
        time.sleep(1.0)  # the baseline: the same probe while the engine is idle
        idle_stop.set()
        idle = idle_future.result(10)
        stop = threading.Event()
        lags_future = engine.submit(probe(stop))
        t0 = time.perf_counter()
        [job] = engine.run_pipeline(project.id)
        engine.wait_sync(timeout=600)
        ran = time.perf_counter() - t0
        expected = engine.get_logs(job.id, tail=1)[0].seq
        while lines_in(Path(job.log_path)) < expected and time.perf_counter() - t0 < 600:
            time.sleep(0.25)
        written = time.perf_counter() - t0
        on_disk = lines_in(Path(job.log_path))
        stop.set()
        lags = lags_future.result(10)
        status = engine.get_job(job.id).status
        engine.close()
    worst = max(lags)
    p99 = statistics.quantiles(lags, n=100)[98]
    over = sum(lag > 0.05 for lag in lags)
    where = ":memory: (logs in /dev/shm)" if args.memory else "SQLite file (logs on disk)"
    print(f"log flood: one job logging {args.lines:,} lines ({args.source}), engine {where}, job {status}")
    print(f"job ran {ran:.1f} s; every line on disk after {written:.1f} s; lines on disk {on_disk:,}")
    print(f"loop lag over {len(lags):,} probes of {TICK * 1000:.0f} ms:")
    print(f"  worst {worst * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, {over} probes over 50 ms")
    print(f"  baseline, the idle engine: worst {max(idle) * 1000:.1f} ms")
    print("target: worst lag under 50 ms")


if __name__ == "__main__":
    main()
