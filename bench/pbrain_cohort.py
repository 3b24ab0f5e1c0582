"""The same phantom cohort through the engine and through ``pbrain run-cohort``, in one run.

Usage: ``.venv/bin/python bench/pbrain_cohort.py [--subjects 4] [--workers 2] [--models patlak,tikhonov]``

Runs, one after the other, each on its own fresh copy of the phantom subjects:

1. ``pbrain run-cohort --workers K`` as p-brain ships it (the BLAS / OpenMP thread variables
   taken out of its environment: each process's libraries use every core);
2. the same with the engine's thread limits (every variable of ``THREAD_VARIABLES`` set to
   ``max(1, cores // K)``);
3. the engine, ``max_concurrent=K``, with ``threads = max(1, cores // K)`` per job (the runner's
   default for K jobs at once);
4. and 5. one subject: run-cohort as shipped, and the engine with K workers.

Prints the thread settings of each side; the wall and CPU times of each (CPU: of the processes
that ran the work, less sensitive than wall time to other work on the machine); three ratios
(engine / run-cohort as shipped, target <= 0.5; engine / run-cohort with equal limits, <= 1.0;
one subject, <= 0.85); and the CPU time that this process (the "kernel" that hosts the engine)
used while the engine's jobs ran.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from pbrain_widgets import Engine, JobStatus
from pbrain_widgets.runners.pbrain import PHANTOM_OPTIONS, make_phantom_subjects, pbrain_pipeline
from pbrain_widgets.runners.process import THREAD_VARIABLES, cores


def cohort_config(root: Path, models: tuple[str, ...]) -> str:
    """A ``pbrain run-cohort`` config with the settings of PHANTOM_OPTIONS."""
    files = PHANTOM_OPTIONS["inputs"]
    subject = f"{root}/{{subject}}"
    lines = ["[inputs]"]
    for key, name in (("dce", "dce"), ("ir", "ir"), ("t1", "t1_anatomical"), ("dwi", "dwi")):
        lines.append(f'{key} = "{subject}/{files[name]}"')
    lines += [f'bvals = "{subject}/{files["bvals"]}"', f'bvecs = "{subject}/{files["bvecs"]}"', ""]
    lines += [
        "[pipeline]",
        f'aif = "{PHANTOM_OPTIONS["aif_extractor"]}"',
        f'tissue_roi = "{PHANTOM_OPTIONS["tissue_roi_provider"]}"',
        f"models = {list(models)!r}".replace("'", '"'),
        f'diffusion = "{",".join(PHANTOM_OPTIONS["diffusion_models"])}"',
        f"aggregations = {list(PHANTOM_OPTIONS['analysis_levels'])!r}".replace("'", '"'),
        'device = "cpu"',
        "",
        "[options]",
        f'"aif.from_file.mask_path" = "{subject}/vessel_mask.nii.gz"',
        f'"tissue_roi.preloaded.parcellation_path" = "{subject}/labels.nii.gz"',
    ]
    return "\n".join(lines) + "\n"


def thread_settings(env: dict[str, str]) -> str:
    """The thread variables of ``env``, as the bench states them."""
    values = {env.get(name, "unset") for name in THREAD_VARIABLES}
    if values == {"unset"}:
        return f"{', '.join(THREAD_VARIABLES)} unset (libraries use all {cores()} cores per process)"
    return ", ".join(f"{name}={env.get(name, 'unset')}" for name in THREAD_VARIABLES)


def children_cpu() -> float:
    """CPU seconds of this process's descendants that have ended (a job's worker is counted
    once its guard has reaped it and this process the guard)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cohort(
    folders: list[Path], workers: int, models: tuple[str, ...], tmp: Path, env: dict[str, str]
) -> tuple[float, float]:
    """Wall and CPU seconds of ``pbrain run-cohort`` on ``folders``."""
    config = tmp / f"{folders[0].parent.name}.toml"
    config.write_text(cohort_config(folders[0].parent, models))
    pbrain = Path(sys.executable).with_name("pbrain")
    argv = [str(pbrain), "run-cohort", "--subjects", *map(str, folders), "--config", str(config)]
    argv += ["--workers", str(workers), "--force", "--quiet"]
    start, cpu = time.perf_counter(), children_cpu()
    # p-brain warns on stderr for every diffusion model without dipy: shown only if it fails
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    took, cpu = time.perf_counter() - start, children_cpu() - cpu
    if done.returncode:
        raise SystemExit(f"run-cohort exited with code {done.returncode}:\n{done.stderr[-4000:]}")
    missing = [f.name for f in folders if not (f / "derivatives" / "00_diagnostics").exists()]
    if missing:
        raise SystemExit(f"run-cohort did not finish subjects {missing}")
    return took, cpu


async def run_engine(
    folders: list[Path], workers: int, models: tuple[str, ...], threads: int
) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds of the jobs' processes, CPU seconds of this process while the
    jobs ran, and the number of jobs, for the engine on ``folders``."""
    engine = Engine(db_path=":memory:", max_concurrent=workers)
    pipeline = pbrain_pipeline(**{**PHANTOM_OPTIONS, "kinetic_models": models, "threads": threads})
    project = engine.create_project("bench", pipeline)
    engine.add_subjects(project.id, [{"name": f.name, "source_path": f} for f in folders])
    me = psutil.Process()
    cpu_before, jobs_cpu = sum(me.cpu_times()[:2]), children_cpu()
    start = time.perf_counter()
    jobs = await engine.wait(engine.run_pipeline(project.id))
    took = time.perf_counter() - start
    kernel_cpu = sum(me.cpu_times()[:2]) - cpu_before
    await engine.aclose()  # stops the warm workers, so that their CPU time is counted
    jobs_cpu = children_cpu() - jobs_cpu
    bad = [(j.stage_id, j.error) for j in jobs if j.status is not JobStatus.COMPLETED]
    if bad:
        raise SystemExit(f"engine jobs failed: {bad}")
    return took, jobs_cpu, kernel_cpu, len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--models", default="patlak,tikhonov")
    args = parser.parse_args()
    models = tuple(m for m in args.models.split(",") if m)
    workers = args.workers
    threads = max(1, cores() // workers)
    # as p-brain ships: no thread variable, whatever this environment holds
    shipped = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    limited = {**shipped, **dict.fromkeys(THREAD_VARIABLES, str(threads))}
    tmp = Path(tempfile.mkdtemp(prefix="pbrain-bench-"))
    try:
        copies = {
            name: make_phantom_subjects(tmp / name, args.subjects) for name in ("cohort", "limited", "engine")
        }
        copies["one-cohort"] = make_phantom_subjects(tmp / "one-cohort", 1)
        copies["one-engine"] = make_phantom_subjects(tmp / "one-engine", 1)
        print(
            f"{args.subjects} phantom subjects x 10 p-brain stages, {workers} workers, "
            f"models {','.join(models)}, {cores()} CPUs"
        )
        print(f"threads, run-cohort as shipped: {thread_settings(shipped)}")
        print(f"threads, run-cohort with equal limits: {thread_settings(limited)}")
        print(
            f"threads, engine: every variable = threads = {threads} per job "
            f"(max(1, {cores()} cores // {workers}))"
        )

        def show(label: str, seconds: float, cpu: float) -> float:
            print(f"{label:48} {seconds:7.1f} s wall {cpu:8.1f} s CPU")
            return seconds

        shipped_s = show(
            f"pbrain run-cohort --workers {workers}, as shipped",
            *run_cohort(copies["cohort"], workers, models, tmp, shipped),
        )
        limited_s = show(
            f"pbrain run-cohort --workers {workers}, equal limits",
            *run_cohort(copies["limited"], workers, models, tmp, limited),
        )
        engine_s, jobs_cpu, kernel_cpu, n_jobs = asyncio.run(
            run_engine(copies["engine"], workers, models, threads)
        )
        show(f"engine, max_concurrent={workers} ({n_jobs} jobs)", engine_s, jobs_cpu)
        one_cohort_s = show(
            "one subject, pbrain run-cohort as shipped",
            *run_cohort(copies["one-cohort"], workers, models, tmp, shipped),
        )
        one_engine_s, one_cpu, _, _ = asyncio.run(run_engine(copies["one-engine"], workers, models, threads))
        show(f"one subject, engine, max_concurrent={workers}", one_engine_s, one_cpu)
        print(f"ratio engine / run-cohort as shipped:   {engine_s / shipped_s:.3f} (target <= 0.5)")
        print(f"ratio engine / run-cohort equal limits: {engine_s / limited_s:.3f} (target <= 1.0)")
        print(f"ratio one subject, engine / run-cohort: {one_engine_s / one_cohort_s:.3f} (target <= 0.85)")
        print(
            f"kernel process CPU while the jobs ran: {kernel_cpu:.2f} s "
            f"({100 * kernel_cpu / engine_s:.1f} % of one core)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
