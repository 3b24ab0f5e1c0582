"""Whole-run ETA accuracy: the engine's ETA against the naive elapsed / fraction-done estimate.

A simulated cohort runs the studio pipeline; its stages take from 1x to 10x each other's time,
each run with +-30 % noise. When 5 subjects have completed, both estimates of the time left are
taken; the run then finishes and each is compared with the time it really took.

    python bench/eta_accuracy.py [--subjects 20] [--unit 0.005] [--seeds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

from pbrain_widgets import Engine, JobContext, Runner, StageStatus

FACTORS = {
    "import": 1,
    "t1_fit": 10,
    "input_functions": 2,
    "time_shift": 1,
    "segmentation": 6,
    "tissue_ctc": 3,
    "modelling": 8,
    "diffusion": 4,
    "tractography": 9,
    "connectome": 2,
}


class CohortRunner(Runner):
    def __init__(self, unit: float, seed: int) -> None:
        self.unit = unit
        self.rng = random.Random(seed)

    async def run(self, ctx: JobContext) -> None:
        seconds = FACTORS[ctx.stage.id] * self.unit * self.rng.uniform(0.7, 1.3)
        for step in range(4):
            await asyncio.sleep(seconds / 4)
            ctx.progress(25 * (step + 1), f"step {step + 1}")


async def one_run(subjects: int, unit: float, seed: int, concurrent: int) -> tuple[float, float, float]:
    engine = Engine(db_path=":memory:", max_concurrent=concurrent, runner=CohortRunner(unit, seed))
    project = engine.create_project("eta")
    engine.add_subjects(project.id, [f"sub-{i:02d}" for i in range(subjects)])
    t0 = time.monotonic()
    jobs = engine.run_pipeline(project.id)
    while True:
        subjects = engine.get_subjects(project.id)
        done = sum(all(st is StageStatus.DONE for st in s.stage_statuses.values()) for s in subjects)
        if done >= 5:
            break
        await asyncio.sleep(0.002)
    t5 = time.monotonic()
    estimate = engine.summary(project.id)["eta_seconds"]
    completed = sum(j.status.value == "completed" for j in engine.get_jobs(project_id=project.id))
    fraction = completed / len(jobs)
    naive = (t5 - t0) * (1 - fraction) / fraction
    await engine.wait(timeout=600)
    actual = time.monotonic() - t5
    engine.close()
    return actual, estimate, naive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--unit", type=float, default=0.005, help="seconds of the 1x stage")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-concurrent", type=int, default=4)
    args = parser.parse_args()
    print(f"ETA after 5 of {args.subjects} subjects completed (stages 1x-10x, +-30 % noise)")
    print(f"{'seed':>4}{'actual s':>10}{'engine s':>10}{'error':>8}{'naive s':>10}{'error':>8}")
    errors = []
    for seed in range(args.seeds):
        actual, estimate, naive = asyncio.run(one_run(args.subjects, args.unit, seed, args.max_concurrent))
        e_err, n_err = abs(estimate - actual) / actual, abs(naive - actual) / actual
        errors.append((e_err, n_err))
        print(f"{seed:>4}{actual:>10.2f}{estimate:>10.2f}{e_err:>8.0%}{naive:>10.2f}{n_err:>8.0%}")
    mean_e = sum(e for e, _ in errors) / len(errors)
    mean_n = sum(n for _, n in errors) / len(errors)
    print(f"mean whole-run ETA error: engine {mean_e:.0%}, naive {mean_n:.0%} (target: engine within 25 %)")


if __name__ == "__main__":
    main()
