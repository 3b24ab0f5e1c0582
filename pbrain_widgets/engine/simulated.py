"""A runner that simulates each stage with named steps, for demos and tests."""

from __future__ import annotations

import asyncio
import random

from ..errors import InvalidArgumentError, JobFailed
from .models import LogLevel
from .runner import JobContext, Runner

STAGE_STEPS: dict[str, tuple[str, ...]] = {
    "import": (
        "Scanning directory structure",
        "Validating NIfTI headers",
        "Indexing sequences",
        "Writing metadata",
    ),
    "t1_fit": (
        "Loading inversion-recovery series",
        "Masking brain voxels",
        "Fitting T1 and M0 maps",
        "Computing fit residuals",
        "Saving T1/M0 maps",
    ),
    "input_functions": (
        "Locating arterial voxels",
        "Extracting arterial input function",
        "Extracting venous output function",
        "Correcting partial volume",
        "Saving input functions",
    ),
    "time_shift": (
        "Estimating bolus arrival times",
        "Aligning curves",
        "Resampling time axis",
        "Saving shifted curves",
    ),
    "segmentation": (
        "Skull stripping",
        "Registering atlas",
        "Labelling tissue classes",
        "Refining grey/white boundary",
        "Writing label maps",
    ),
    "tissue_ctc": (
        "Converting signal to concentration",
        "Averaging curves per region",
        "Filtering outliers",
        "Saving tissue curves",
    ),
    "modelling": (
        "Preparing model inputs",
        "Running Patlak analysis",
        "Running Extended Tofts",
        "Running deconvolution",
        "Estimating parameter uncertainty",
        "Writing parameter maps",
    ),
    "diffusion": (
        "Correcting eddy currents",
        "Fitting diffusion tensor",
        "Computing FA and MD maps",
        "Saving diffusion metrics",
    ),
    "tractography": (
        "Seeding streamlines",
        "Tracking fibres",
        "Filtering streamlines",
        "Saving tractogram",
    ),
    "connectome": (
        "Parcellating cortex",
        "Counting connections",
        "Computing network metrics",
        "Writing connectome",
    ),
}
GENERIC_STEPS = ("Preparing inputs", "Processing", "Checking results", "Writing outputs")


class SimulatedRunner(Runner):
    """Pretends to run each stage: 4-6 named steps of ``step_seconds`` each.

    Per step it reports progress, the step's name, a ``[PROGRESS] 40% - <step>`` log line and an
    ETA. With probability ``failure_rate`` a job fails at its middle step; the draw depends only
    on ``seed``, the subject's name, the stage and the attempt, so a seed makes runs repeatable.
    Cancel takes effect at once (the step's sleep is interrupted).
    """

    def __init__(
        self, step_seconds: float = 2.0, failure_rate: float = 0.05, seed: int | None = None
    ) -> None:
        if (
            isinstance(step_seconds, bool)
            or not isinstance(step_seconds, (int, float))
            or not (step_seconds >= 0)
        ):
            raise InvalidArgumentError(f"step_seconds must be a number >= 0, got {step_seconds!r}")
        if (
            isinstance(failure_rate, bool)
            or not isinstance(failure_rate, (int, float))
            or not (0 <= failure_rate <= 1)
        ):
            raise InvalidArgumentError(f"failure_rate must be a number from 0 to 1, got {failure_rate!r}")
        self.step_seconds = float(step_seconds)
        self.failure_rate = float(failure_rate)
        self.seed = seed
        self._fallback = random.Random()

    def steps(self, stage_id: str) -> tuple[str, ...]:
        return STAGE_STEPS.get(stage_id, GENERIC_STEPS)

    def will_fail(self, subject_name: str, stage_id: str, attempt: int) -> bool:
        """Whether the job for these inputs fails (repeatable when a seed is set)."""
        if self.failure_rate <= 0:
            return False
        if self.failure_rate >= 1:
            return True
        rng = (
            random.Random(f"{self.seed}:{subject_name}:{stage_id}:{attempt}")
            if self.seed is not None
            else self._fallback
        )
        return rng.random() < self.failure_rate

    async def run(self, ctx: JobContext) -> None:
        steps = self.steps(ctx.stage.id)
        fail_at = len(steps) // 2 if self.will_fail(ctx.subject.name, ctx.stage.id, ctx.attempt) else -1
        n = len(steps)
        for i, step in enumerate(steps):
            ctx.progress(i / n * 100, step, eta_seconds=(n - i) * self.step_seconds)
            await asyncio.sleep(self.step_seconds)
            if i == fail_at:
                raise JobFailed(f"Simulated error in step: {step}")
            ctx.log(LogLevel.PROGRESS, f"[PROGRESS] {(i + 1) / n * 100:.0f}% - {step}")
