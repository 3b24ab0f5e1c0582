"""Executors: where a job's runner does its work.

The engine, its events and its records always stay in the kernel. An executor decides where a
runner's ``run`` executes: :class:`LocalExecutor` (the default) awaits it on the kernel's event
loop, so process-based runners start their processes on this machine; a cluster executor (see
:mod:`pbrain_widgets.runners.dask`) runs it on a worker and streams the job's reports back.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

from .runner import JobContext, Runner


class Executor(abc.ABC):
    """Runs a runner for one job somewhere, reporting through the job's context."""

    def attach(self, wake: Callable[[], None]) -> None:  # noqa: B027 - optional hook
        """Called once by the engine; call ``wake()`` (on the engine's loop) when capacity grows."""

    @property
    def capacity(self) -> int | None:
        """How many jobs can run at once now (``None``: no limit beyond ``max_concurrent``)."""
        return None

    @abc.abstractmethod
    async def run(self, runner: Runner, ctx: JobContext) -> None:
        """Run ``runner`` for the job of ``ctx``; raise as the job should fail.

        Cancelling this coroutine must stop the work (and its processes) wherever it runs.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop every job's work still running and release resources."""


class LocalExecutor(Executor):
    """Runs each runner on the kernel's own event loop (the default)."""

    async def run(self, runner: Runner, ctx: JobContext) -> None:
        await runner.run(ctx)
