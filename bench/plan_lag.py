"""Planning a huge run: the engine's loop lag while ``run_pipeline`` queues 100,000 jobs.

10,000 subjects x the 10 studio stages are queued by one ``run_pipeline`` call from the main
thread (as a notebook cell would), while a probe on the engine's own loop sleeps 5 ms at a time
and records how late it wakes up. The jobs do not start (one slot, held by a job that waits), so
the figure is the planning's alone. Prints the worst and 99th-percentile lag, how long the call
took, the longest pause of Python's garbage collector meanwhile (``gc.callbacks``), and as a
baseline the worst lag of the same probe on the idle engine. Then, the 100,000 jobs queued, the
snapshot a view asks for on render (or reload) of each large widget, twice each, with the same
probe: how long each took on the engine's loop and the worst lag meanwhile; for the JobMonitor
also the windows a view asks for next (``jobs_window``: the top of the listing, a page deep in
the queued jobs, a text filter and a column sort, which make the whole listing in slices of the
loop: their time is the reply's, the worst lag the loop's meanwhile). Last, batches over every
job (cancel_many, retry_many, set_priority_many of the retries, cancel_all from the main thread):
their time and the worst lag.

    python bench/plan_lag.py [--subjects 10000] [--memory]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import inspect
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable
from typing import Any

from log_flood import TICK, probe  # the same loop-lag probe, from the script beside this one

from pbrain_widgets import STUDIO_PIPELINE, Engine, JobContext, JobStatus, Runner


class HeldRunner(Runner):
    """Waits until the engine closes: the first job holds the only slot, the rest stay queued."""

    async def run(self, ctx: JobContext) -> None:
        await asyncio.sleep(3600)


class GcPauses:
    """The duration of each garbage collection while installed."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--memory", action="store_true", help="a :memory: engine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(
            ":memory:" if args.memory else f"{tmp}/plan.sqlite", runner=HeldRunner(), max_concurrent=1
        )
        project = engine.create_project("plan", pipeline=STUDIO_PIPELINE)
        engine.add_subjects(project.id, [f"sub-{i:05d}" for i in range(args.subjects)])
        idle_stop = threading.Event()
        idle_future = engine.submit(probe(idle_stop))
        time.sleep(1.0)
        idle_stop.set()
        idle = idle_future.result(10)
        stop = threading.Event()
        lags_future = engine.submit(probe(stop))
        pauses = GcPauses()
        gc.callbacks.append(pauses)
        t0 = time.perf_counter()
        jobs = engine.run_pipeline(project.id)
        took = time.perf_counter() - t0
        time.sleep(0.5)  # the write-behind of the rows after the call
        gc.callbacks.remove(pauses)
        stop.set()
        lags = lags_future.result(10)
        snapshots = snapshot_costs(engine, project.id)
        batches = batch_lags(engine, [j.id for j in jobs])
        engine.close()
    worst = max(lags)
    p99 = statistics.quantiles(lags, n=100)[98]
    over = sum(lag > 0.05 for lag in lags)
    where = ":memory:" if args.memory else "SQLite file"
    print(f"run_pipeline of {len(jobs):,} jobs ({where}) took {took:.2f} s")
    print(f"loop lag over {len(lags):,} probes of {TICK * 1000:.0f} ms:")
    print(f"  worst {worst * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, {over} probes over 50 ms")
    print(f"  longest garbage collection meanwhile {max(pauses.pauses, default=0) * 1000:.1f} ms")
    print(f"  baseline, the idle engine: worst {max(idle) * 1000:.1f} ms")
    print("target: worst lag under 50 ms")
    print(f"a view's snapshot with {len(jobs):,} jobs queued (target: no stall over 100 ms):")
    for name, (costs, worst_lag) in snapshots.items():
        took_ms = ", ".join(f"{c * 1000:.0f}" for c in costs)
        print(f"  {name}: {took_ms} ms; worst lag {worst_lag * 1000:.0f} ms")
    print(f"batches over the {len(jobs):,} jobs, called from the main thread (target: no stall over 100 ms):")
    for name, (took, worst_lag) in batches.items():
        print(f"  {name}: {took:.1f} s; worst lag {worst_lag * 1000:.0f} ms")


WINDOWS = {
    "window: the top, 152 rows": {"offset": 0},
    "window: 152 rows from row 50,000": {"offset": 50_000},
    "window: text filter 'sub-0999'": {"query": "sub-0999"},
    "window: sorted by subject": {"sort": "subject"},
}
"""The JobMonitor windows measured (changes to a view's first request)."""


async def awaited(answer: Awaitable[Any]) -> Any:
    return await answer


def snapshot_costs(engine: Engine, project_id: str) -> dict[str, tuple[list[float], float]]:
    """Per widget (and per JobMonitor window): the time of each of two requests on the engine's
    loop, and the probe's worst lag over both."""
    from pbrain_widgets.widgets import JobMonitor, ProjectDashboard, Timeline

    out: dict[str, tuple[list[float], float]] = {}
    for kind in (JobMonitor, ProjectDashboard, Timeline):
        widget = kind(engine, project_id)
        calls = {kind.__name__: widget.snapshot}
        if isinstance(widget, JobMonitor):
            jobs_window = widget.jobs_feed.actions()["jobs_window"]
            first = {"view": "bench", "tab": "all", "history": False, "count": 152, "pinned": [], "keep": []}
            for name, change in WINDOWS.items():
                payload = {**first, "asked": 1, "offset": 0, "query": None, "sort": None, **change}
                calls[f"JobMonitor {name}"] = functools.partial(jobs_window, payload)
        for name, call in calls.items():
            stop = threading.Event()
            lags_future = engine.submit(probe(stop))
            time.sleep(0.1)
            costs = []
            for _ in range(2):
                t0 = time.perf_counter()
                answer = engine.call(call)
                if inspect.isawaitable(answer):  # a listing made in slices: its reply comes later
                    engine.submit(awaited(answer)).result(60)
                costs.append(time.perf_counter() - t0)
                time.sleep(0.1)
            stop.set()
            out[name] = (costs, max(lags_future.result(10)))
        widget.close()
    return out


def batch_lags(engine: Engine, ids: list[str]) -> dict[str, tuple[float, float]]:
    """cancel_many of every job, retry_many of them, set_priority_many of the retries (queued),
    cancel_all: each one's time and the probe's worst lag meanwhile."""
    calls = {
        "cancel_many": lambda: engine.cancel_many(ids),
        "retry_many": lambda: engine.retry_many(ids),
        "set_priority_many": lambda: engine.set_priority_many(dict.fromkeys(queued, 1)),
        "cancel_all": lambda: engine.cancel_all(),
    }
    out: dict[str, tuple[float, float]] = {}
    queued: list[str] = []  # the retries, read between the calls (not timed)
    for name, call in calls.items():
        if name == "set_priority_many":
            queued = engine.get_job_ids(status=JobStatus.QUEUED)
        stop = threading.Event()
        lags_future = engine.submit(probe(stop))
        time.sleep(0.1)
        t0 = time.perf_counter()
        call()
        took = time.perf_counter() - t0
        time.sleep(0.1)
        stop.set()
        out[name] = (took, max(lags_future.result(10)))
    return out


if __name__ == "__main__":
    main()
