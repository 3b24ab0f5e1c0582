"""The same phantom cohort through the engine and through ``pbrain run-cohort``, in one run.

Usage: ``.venv/bin/python bench/pbrain_cohort.py [--subjects 4] [--workers 2] [--models patlak,tikhonov]``

Prints the wall time of each, their ratio (engine / run-cohort; target at most 1.05) and the CPU
time that this process (the "kernel" that hosts the engine) used while the engine's jobs ran.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from pbrain_widgets import Engine, JobStatus
from pbrain_widgets.runners.pbrain import PHANTOM_OPTIONS, make_phantom_subjects, pbrain_pipeline


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


def run_cohort(folders: list[Path], workers: int, models: tuple[str, ...], tmp: Path) -> float:
    config = tmp / "cohort.toml"
    config.write_text(cohort_config(folders[0].parent, models))
    pbrain = Path(sys.executable).with_name("pbrain")
    argv = [str(pbrain), "run-cohort", "--subjects", *map(str, folders), "--config", str(config)]
    argv += ["--workers", str(workers), "--force", "--quiet"]
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - start
    missing = [f.name for f in folders if not (f / "derivatives" / "00_diagnostics").exists()]
    if missing:
        raise SystemExit(f"run-cohort did not finish subjects {missing}")
    return took


async def run_engine(folders: list[Path], workers: int, models: tuple[str, ...]) -> tuple[float, float, int]:
    engine = Engine(db_path=":memory:", max_concurrent=workers)
    pipeline = pbrain_pipeline(**{**PHANTOM_OPTIONS, "kinetic_models": models})
    project = engine.create_project("bench", pipeline)
    engine.add_subjects(project.id, [{"name": f.name, "source_path": f} for f in folders])
    me = psutil.Process()
    cpu_before = sum(me.cpu_times()[:2])
    start = time.perf_counter()
    jobs = await engine.wait(engine.run_pipeline(project.id))
    took = time.perf_counter() - start
    kernel_cpu = sum(me.cpu_times()[:2]) - cpu_before
    await engine.aclose()
    bad = [(j.stage_id, j.error) for j in jobs if j.status is not JobStatus.COMPLETED]
    if bad:
        raise SystemExit(f"engine jobs failed: {bad}")
    return took, kernel_cpu, len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--models", default="patlak,tikhonov")
    args = parser.parse_args()
    models = tuple(m for m in args.models.split(",") if m)
    tmp = Path(tempfile.mkdtemp(prefix="pbrain-bench-"))
    try:
        cohort = make_phantom_subjects(tmp / "cohort", args.subjects)
        engine_subjects = make_phantom_subjects(tmp / "engine", args.subjects)
        print(
            f"{args.subjects} phantom subjects x 10 p-brain stages, {args.workers} workers, "
            f"models {','.join(models)}, {os.cpu_count()} CPUs"
        )
        cohort_s = run_cohort(cohort, args.workers, models, tmp)
        print(f"pbrain run-cohort --workers {args.workers}: {cohort_s:7.1f} s")
        engine_s, kernel_cpu, n_jobs = asyncio.run(run_engine(engine_subjects, args.workers, models))
        print(f"engine, max_concurrent={args.workers} ({n_jobs} jobs): {engine_s:7.1f} s")
        print(f"wall-time ratio engine / run-cohort: {engine_s / cohort_s:.3f} (target <= 1.05)")
        print(
            f"kernel process CPU while the jobs ran: {kernel_cpu:.2f} s "
            f"({100 * kernel_cpu / engine_s:.1f} % of one core)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
