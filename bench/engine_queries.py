"""How long the engine's filtered job queries take with a large cohort, against an earlier commit.

``--subjects`` x 10 stages jobs (default 10,000 x 10 = 100,000), 50 of them running (a runner
that sleeps), the rest queued. Timed from the main thread (each call is handed to the engine's
thread, as a notebook's call is), median of ``--calls`` calls each:

- ``get_jobs(status="running")``: the running jobs (50)
- ``get_jobs(subject_id=...)``: one subject's jobs (10)
- ``get_jobs(subject_id=..., stage_id=...)``: one subject x stage (1)
- ``get_jobs(project_id=..., status=["queued", "running"])``: every active job (all of them)

With ``--baseline REF`` the same runs on an earlier commit (a temporary git worktree) in the same
run and the ratios are printed. Run: ``.venv/bin/python bench/engine_queries.py [--baseline REF]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

VARIANT = textwrap.dedent(
    """
    import asyncio, json, statistics, sys, time
    from pbrain_widgets import Engine, Runner

    class Sleeper(Runner):
        async def run(self, ctx):
            await asyncio.sleep(3600)

    subjects, calls = int(sys.argv[1]), int(sys.argv[2])
    engine = Engine(db_path=":memory:", runner=Sleeper(), max_concurrent=50)
    project = engine.create_project("bench")
    added = engine.add_subjects(project.id, [f"sub-{i:05d}" for i in range(subjects)])
    engine.run_pipeline(project.id)
    time.sleep(0.5)
    one = added[len(added) // 2].id
    queries = {
        "running": lambda: engine.get_jobs(status="running"),
        "subject": lambda: engine.get_jobs(subject_id=one),
        "subject x stage": lambda: engine.get_jobs(subject_id=one, stage_id="t1_fit"),
        "active": lambda: engine.get_jobs(project_id=project.id, status=["queued", "running"]),
    }
    import pbrain_widgets
    out = {"_module": pbrain_widgets.__file__}
    for name, query in queries.items():
        samples = []
        for _ in range(calls if name != "active" else max(3, calls // 10)):
            start = time.perf_counter()
            found = query()
            samples.append(time.perf_counter() - start)
        out[name] = {"ms": statistics.median(samples) * 1e3, "found": len(found)}
    engine.close()
    print(json.dumps(out))
    """
)


def run(subjects: int, calls: int, checkout: str) -> dict:
    # `python -c` puts the working directory first on sys.path: run in the checkout to measure
    out = subprocess.run(
        [sys.executable, "-c", VARIANT, str(subjects), str(calls)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": checkout},
        cwd=checkout,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--baseline", help="git ref of an earlier engine to run in the same run")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    results = {"this": run(args.subjects, args.calls, str(root))}
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            folder = f"{tmp}/baseline"
            subprocess.run(
                ["git", "-C", str(root), "worktree", "add", "--detach", folder, args.baseline], check=True
            )
            try:  # the widgets' front end is not needed, but importing the package checks it is built
                shutil.copytree(root / "pbrain_widgets" / "static", f"{folder}/pbrain_widgets/static")
                results[args.baseline] = run(args.subjects, args.calls, folder)
            finally:
                subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", folder], check=False)
    print(f"get_jobs with {args.subjects * 10:,} jobs (50 running), median ms per call")
    print(
        f"{'query':<18}{'found':>8}"
        + "".join(f"{name:>14}" for name in results)
        + ("   ratio" if args.baseline else "")
    )
    for name, result in results.items():
        print(f"  {name}: {result.pop('_module')}")
    for query, first in results["this"].items():
        found = {r[query]["found"] for r in results.values()}
        assert len(found) == 1, f"the sides found different numbers of jobs for {query}: {found}"
        row = f"{query:<18}{first['found']:>8}" + "".join(
            f"{r[query]['ms']:>14.3f}" for r in results.values()
        )
        if args.baseline:
            row += f"{first['ms'] / results[args.baseline][query]['ms']:>8.3f}"
        print(row)


if __name__ == "__main__":
    main()
