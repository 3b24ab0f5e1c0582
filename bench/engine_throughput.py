"""Engine throughput: 10,000 jobs (1,000 subjects x 10 stages) with zero-length simulated steps.

Prints jobs/s in memory and with the SQLite file, peak memory of each run, and the ratio against
bare asyncio tasks doing the same number of awaits, all measured in this run. Each variant runs in
a fresh Python process so that peak memory is its own. With ``--baseline REF`` the engine of an
earlier commit (checked out into a temporary git worktree) runs the same variants in the same run,
interleaved, and the per-job cost ratio new / old is printed (issue 9's target: <= 1.2 for the
engine on its own thread against the engine on the caller's loop, commit 64a453b).

Then the latency of an API call (``engine.get_job``) from the main thread while 50 jobs run,
each logging and reporting progress 50 times a second: p50 and p99.

    python bench/engine_throughput.py [--subjects 1000] [--rounds 3] [--baseline 64a453b]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

VARIANT = textwrap.dedent(
    """
    import asyncio, json, resource, sys, time
    from pbrain_widgets import STUDIO_PIPELINE, Engine, SimulatedRunner
    try:
        from pbrain_widgets.engine.simulated import STAGE_STEPS
    except ImportError:  # commits before the runner contract moved into the engine
        from pbrain_widgets.runners.simulated import STAGE_STEPS

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


LATENCY = textwrap.dedent(
    """
    import asyncio, json, statistics, time
    from pbrain_widgets import Engine, JobContext, Pipeline, Runner, Stage

    class Chatty(Runner):
        async def run(self, ctx: JobContext) -> None:
            for i in range(100_000):
                ctx.progress(i % 100, f"block {i}")
                ctx.info(f"line {i}")
                await asyncio.sleep(0.02)

    engine = Engine(db_path=":memory:", max_concurrent=50, runner=Chatty())
    project = engine.create_project("latency", pipeline=Pipeline([Stage("chat")]))
    engine.add_subjects(project.id, [f"s{i}" for i in range(50)])
    jobs = engine.run_pipeline(project.id)
    time.sleep(1.0)
    samples = []
    for i in range(2000):
        t0 = time.perf_counter()
        engine.get_job(jobs[i % len(jobs)].id)
        samples.append(time.perf_counter() - t0)
        time.sleep(0.001)
    running = len(engine.get_jobs(status="running"))
    engine.close()
    q = statistics.quantiles(samples, n=100)
    print(json.dumps({"running": running, "p50_ms": q[49] * 1e3, "p99_ms": q[98] * 1e3}))
    """
)


def run(kind: str, subjects: int, db: str, pythonpath: str | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else None
    out = subprocess.run(
        [sys.executable, "-c", VARIANT, kind, str(subjects), db],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=pythonpath,  # `python -c` puts the working directory first on sys.path, before PYTHONPATH
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def checkout(ref: str, folder: str) -> str:
    """A worktree of ``ref`` in ``folder`` (removed by the caller's temporary directory)."""
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        ["git", "-C", str(root), "worktree", "add", "--detach", folder, ref], check=True, capture_output=True
    )
    # the built front end is not in git, and `import pbrain_widgets` needs one (the bench uses none)
    shutil.copytree(
        root / "pbrain_widgets" / "static", Path(folder) / "pbrain_widgets" / "static", dirs_exist_ok=True
    )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; medians are printed")
    parser.add_argument("--baseline", help="git ref of an earlier engine to run in the same run")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    names = {"bare": "bare asyncio tasks", "memory": "engine, :memory:", "sqlite": "engine, SQLite file"}
    rows: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"": None}
        if args.baseline:
            sides[f" @{args.baseline}"] = checkout(args.baseline, f"{tmp}/baseline")
        try:
            for n in range(args.rounds):
                for suffix, path in sides.items():
                    for kind in ("bare", "memory", "sqlite"):
                        if kind == "bare" and suffix:
                            continue
                        db = ":memory:" if kind != "sqlite" else f"{tmp}/bench-{n}{suffix.strip(' @')}.sqlite"
                        rows.setdefault(kind + suffix, []).append(run(kind, args.subjects, db, path))
        finally:
            if args.baseline:
                subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", f"{tmp}/baseline"])
    med = {key: statistics.median(r["seconds"] for r in runs) for key, runs in rows.items()}
    first = rows["bare"][0]
    print(
        f"engine throughput: {first['jobs']:,} jobs, {first['awaits']:,} step awaits, {args.rounds} round(s)"
    )
    print(f"{'variant':<34}{'seconds':>9}{'jobs/s':>10}{'x bare':>9}{'peak MB':>9}")
    for key, runs in rows.items():
        kind, _, ref = key.partition(" @")
        label = names[kind] + (f" @{ref}" if ref else "")
        peak = max(r["peak_mb"] for r in runs)
        rate, ratio = first["jobs"] / med[key], med[key] / med["bare"]
        print(f"{label:<34}{med[key]:>9.2f}{rate:>10,.0f}{ratio:>9.1f}{peak:>9.0f}")
    if args.baseline:
        for kind in ("memory", "sqlite"):
            ratio = med[kind] / med[f"{kind} @{args.baseline}"]
            print(f"per-job cost, {names[kind]}: {ratio:.2f}x the engine at {args.baseline} (target <= 1.2)")
    out = subprocess.run([sys.executable, "-c", LATENCY], capture_output=True, text=True, check=True)
    lat = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"API call from the main thread while {lat['running']} jobs run: "
        f"p50 {lat['p50_ms']:.3f} ms, p99 {lat['p99_ms']:.3f} ms"
    )


if __name__ == "__main__":
    main()
