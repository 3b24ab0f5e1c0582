"""The Dask executor against the local one: short function jobs, then the p-brain phantom cohort.

Usage: ``.venv/bin/python bench/dask_executor.py [--jobs 1000] [--slots 2] [--subjects 2]
[--rounds 3] [--skip-pbrain]``

Both variants use the same engine settings (``:memory:``, ``max_concurrent=slots``) and the same
runner. The Dask variant runs on a ``LocalCluster`` with ``slots`` worker processes of one thread
each, started before the clock starts. Part 1 runs ``--jobs`` jobs of a function that only
reports 100 % (a ``FunctionRunner``, so each job also crosses into a warm function process):
jobs/s, and the overhead per job (wall time x slots / jobs, as the work itself is nil). Part 2
runs the phantom cohort (``pbrain_pipeline(**PHANTOM_OPTIONS)``, ``make_phantom_subjects``)
``--rounds`` times in each variant, alternating: wall times, their ratio per round and the median
ratio (one round is at the mercy of whatever else the machine does).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from distributed import Client, LocalCluster

from pbrain_widgets import Engine, Executor, JobStatus, Pipeline, Stage
from pbrain_widgets.engine.runner import Runner
from pbrain_widgets.runners.dask import DaskExecutor
from pbrain_widgets.runners.function import FunctionRunner

_T = TypeVar("_T")


def short_job(ctx) -> None:
    """The work of one short job: nothing but a progress report."""
    ctx.progress(100, "done")


async def run_jobs(
    pipeline: Pipeline, subjects: list, executor: Executor | None, slots: int, runner: Runner
) -> tuple[float, list[float]]:
    """Wall time of the whole run and each job's duration (start to end, in the engine)."""
    engine = Engine(":memory:", max_concurrent=slots, runner=runner, executor=executor)
    project = engine.create_project("bench", pipeline)
    engine.add_subjects(project.id, subjects)
    if isinstance(executor, DaskExecutor):
        while executor.capacity < slots:
            await asyncio.sleep(0.05)
    start = time.perf_counter()
    jobs = await engine.wait(engine.run_pipeline(project.id))
    took = time.perf_counter() - start
    await engine.aclose()
    bad = [(j.stage_id, j.error) for j in jobs if j.status is not JobStatus.COMPLETED]
    if bad:
        raise SystemExit(f"{len(bad)} jobs did not complete, e.g. {bad[:3]}")
    return took, [j.end_time - j.start_time for j in jobs]


VARIANTS = (("local executor", False), ("Dask LocalCluster", True))


def measured(use_dask: bool, slots: int, measure: Callable[[Executor | None], _T]) -> _T:
    """``measure(None)``, or ``measure(DaskExecutor)`` on a fresh LocalCluster of ``slots`` workers."""
    if not use_dask:
        return measure(None)
    cluster = LocalCluster(n_workers=slots, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as client:
        client.wait_for_workers(slots)
        return measure(DaskExecutor(client))


def short_jobs(count: int, slots: int) -> None:
    # the function must be importable by name in the function processes, so not from __main__
    from dask_executor import short_job as job_fn

    pipeline = Pipeline([Stage("work", "Work")], name="short")
    subjects = [f"s{i:04d}" for i in range(count)]
    rows = []

    def measure(executor: Executor | None) -> tuple[float, list[float]]:
        runner = FunctionRunner(job_fn, max_idle_workers=slots)
        return asyncio.run(run_jobs(pipeline, subjects, executor, slots, runner))

    for name, use_dask in VARIANTS:
        took, durations = measured(use_dask, slots, measure)
        rows.append((name, took, durations))
    print(f"\n{count} short function jobs, max_concurrent={slots}, {os.cpu_count()} CPUs")
    print("| variant | wall s | jobs/s | overhead per job ms | median job duration ms |")
    print("|---|---|---|---|---|")
    for name, took, durations in rows:
        print(
            f"| {name} | {took:.1f} | {count / took:,.0f} | {1000 * took * slots / count:.1f} "
            f"| {1000 * statistics.median(durations):.1f} |"
        )


def pbrain_cohort(subjects: int, slots: int, rounds: int) -> None:
    from pbrain_widgets.runners.pbrain import PHANTOM_OPTIONS, make_phantom_subjects, pbrain_pipeline

    tmp = Path(tempfile.mkdtemp(prefix="pbrain-dask-bench-"))
    try:
        print(f"\np-brain phantom cohort: {subjects} subjects x 10 stages, max_concurrent={slots}")
        print("| round | local executor s | Dask LocalCluster s | ratio Dask / local |")
        print("|---|---|---|---|")
        ratios = []
        for round_ in range(1, rounds + 1):
            took = {}
            for name, use_dask in VARIANTS:
                # fresh subject folders: p-brain would reuse the results of a previous run
                folders = make_phantom_subjects(tmp / f"{round_}-{use_dask}", subjects)
                specs = [{"name": f.name, "source_path": f} for f in folders]

                def measure(executor: Executor | None, specs: list = specs) -> tuple[float, list[float]]:
                    pipeline = pbrain_pipeline(**PHANTOM_OPTIONS)
                    runner = pipeline[pipeline.stage_ids[0]].runner
                    return asyncio.run(run_jobs(pipeline, specs, executor, slots, runner))

                took[name] = measured(use_dask, slots, measure)[0]
            local, dask = took[VARIANTS[0][0]], took[VARIANTS[1][0]]
            ratios.append(dask / local)
            print(f"| {round_} | {local:.1f} | {dask:.1f} | {dask / local:.3f} |", flush=True)
        print(f"median wall-time ratio Dask / local: {statistics.median(ratios):.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--subjects", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="cohort runs of each variant, alternated")
    parser.add_argument("--skip-pbrain", action="store_true")
    args = parser.parse_args()
    short_jobs(args.jobs, args.slots)
    if not args.skip_pbrain:
        pbrain_cohort(args.subjects, args.slots, args.rounds)


if __name__ == "__main__":
    main()
