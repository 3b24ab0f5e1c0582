"""Runners for the scenario notebooks: this file's source is the first cell of each notebook.

A behaviour per subject name makes every job's fate known in advance, and a gate lets the
test decide when jobs start working (after the page has rendered the widgets and installed
its observers).
"""

from __future__ import annotations

import asyncio
import time

from pbrain_widgets import Engine, JobContext, JobFailed, Pipeline, Runner, Stage

MINI_PIPELINE = Pipeline(
    [Stage("import", "Import & Index"), Stage("t1_fit", "T1/M0 Fitting", ("import",))], name="mini"
)


class Gate:
    """An asyncio.Event that the test opens and closes from the kernel's main thread while jobs
    wait on it on the engine's thread (an asyncio.Event is not thread-safe)."""

    def __init__(self, is_set: bool = False) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        if is_set:
            self._event.set()

    def _on_loop(self, fn) -> None:
        if self._loop is None:
            fn()
        else:
            self._loop.call_soon_threadsafe(fn)

    def set(self) -> None:
        self._on_loop(self._event.set)

    def clear(self) -> None:
        self._on_loop(self._event.clear)

    async def wait(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._event.wait()


class ScriptedRunner(Runner):
    """Each job logs ``steps`` steps of ``step_seconds``, then does what its subject's
    behaviour says: ``ok`` completes, ``fail`` fails, ``flaky`` fails on the first attempt
    only, ``hang`` runs until cancelled. Log lines and errors quote the subject's name.
    """

    def __init__(
        self,
        behaviours: dict[str, str] | None = None,
        step_seconds: float = 0.05,
        steps: int = 4,
        gated: bool = False,
    ) -> None:
        self.behaviours = behaviours or {}
        self.step_seconds = step_seconds
        self.steps = steps
        self.gate = Gate(is_set=not gated)

    async def run(self, ctx: JobContext) -> None:
        name = ctx.subject.name
        behaviour = self.behaviours.get(name, "ok")
        await self.gate.wait()
        for i in range(self.steps):
            ctx.progress(100 * i / self.steps, f"Step {i + 1} of {self.steps}")
            ctx.info(f"{ctx.stage.id} step {i + 1} for {name}")
            await asyncio.sleep(self.step_seconds)
        if behaviour == "hang":
            ctx.progress(99, "Hanging until cancelled")
            await asyncio.Event().wait()
        if behaviour == "fail" or (behaviour == "flaky" and ctx.attempt == 1):
            raise JobFailed(f"{name} failed at attempt {ctx.attempt}")


class StampedRunner(Runner):
    """Once its gate opens, logs ``lines`` lines every ``interval`` seconds, each carrying the
    kernel's ``time.time()`` at emission (``t=<seconds>``), and advances progress and step."""

    def __init__(self, lines: int = 150, interval: float = 0.02) -> None:
        self.lines = lines
        self.interval = interval
        self.gate = Gate()

    async def run(self, ctx: JobContext) -> None:
        await self.gate.wait()
        for i in range(self.lines):
            ctx.progress(100 * i / self.lines, f"Block {i // 25 + 1}")
            ctx.info(f"line {i} t={time.time():.6f}")
            await asyncio.sleep(self.interval)


def job_ids_by_status(engine: Engine, project_id: str) -> dict[str, list[str]]:
    """The ids of the project's jobs, per status value."""
    ids: dict[str, list[str]] = {}
    for job in engine.get_jobs(project_id=project_id):
        ids.setdefault(job.status.value, []).append(job.id)
    return ids


def job_counts(engine: Engine, project_id: str) -> dict[str, int]:
    """The number of the project's jobs, per status value."""
    return {status: len(ids) for status, ids in job_ids_by_status(engine, project_id).items()}
