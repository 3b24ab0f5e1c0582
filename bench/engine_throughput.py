"""Engine throughput: 10,000 jobs (1,000 subjects x 10 stages) with zero-length simulated steps.

Prints jobs/s in memory and with the SQLite file, peak memory of each run, and the ratio against
bare asyncio tasks doing the same number of awaits, all measured in this run. Each variant runs in
a fresh Python process so that peak memory is its own.

    python bench/engine_throughput.py [--subjects 1000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap

VARIANT = textwrap.dedent(
    """
    import asyncio, json, resource, sys, time
    from pbrain_widgets import STUDIO_PIPELINE, Engine, SimulatedRunner
    from pbrain_widgets.engine.simulated import STAGE_STEPS

    kind, n_subjects, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    steps_per_job = [len(STAGE_STEPS[s]) for s in STUDIO_PIPELINE.stage_ids]
    awaits = n_subjects * sum(steps_per_job)
    jobs_total = n_subjects * len(steps_per_job)

    async def bare():
        async def job(n):
            for _ in range(n):
                await asyncio.sleep(0)
        t0 = time.perf_counter()
        await asyncio.gather(*(job(n) for _ in range(n_subjects) for n in steps_per_job))
        return time.perf_counter() - t0

    async def engine_run():
        engine = Engine(db_path=db, max_concurrent=64, runner=SimulatedRunner(step_seconds=0, failure_rate=0))
        project = engine.create_project("bench")
        engine.add_subjects(project.id, [f"sub-{i:04d}" for i in range(n_subjects)])
        t0 = time.perf_counter()
        jobs = engine.run_pipeline(project.id)
        await engine.wait(timeout=600)
        engine.close()  # writes the last buffered rows and log lines
        elapsed = time.perf_counter() - t0
        assert len(jobs) == jobs_total
        return elapsed

    elapsed = asyncio.run(bare() if kind == "bare" else engine_run())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"kind": kind, "jobs": jobs_total, "awaits": awaits, "seconds": elapsed, "peak_mb": peak_mb}
    print(json.dumps(result))
    """
)


def run(kind: str, subjects: int, db: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", VARIANT, kind, str(subjects), db], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            run("bare", args.subjects, ":memory:"),
            run("memory", args.subjects, ":memory:"),
            run("sqlite", args.subjects, f"{tmp}/bench.sqlite"),
        ]
    bare = results[0]["seconds"]
    print(f"engine throughput: {results[0]['jobs']:,} jobs, {results[0]['awaits']:,} step awaits")
    print(f"{'variant':<22}{'seconds':>9}{'jobs/s':>10}{'x bare':>9}{'peak MB':>9}")
    names = {"bare": "bare asyncio tasks", "memory": "engine, :memory:", "sqlite": "engine, SQLite file"}
    for r in results:
        rate = r["jobs"] / r["seconds"]
        ratio = r["seconds"] / bare
        print(f"{names[r['kind']]:<22}{r['seconds']:>9.2f}{rate:>10,.0f}{ratio:>9.1f}{r['peak_mb']:>9.0f}")
    print("targets: >= 10,000 jobs/s in memory, >= 3,000 jobs/s with SQLite")


if __name__ == "__main__":
    main()
