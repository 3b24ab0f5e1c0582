"""CPU and memory sampling of the processes that run a job (psutil, about once a second)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psutil

log = logging.getLogger("pbrain_widgets.engine")


class ResourceSampler:
    """Samples each tracked job's process tree (root process and all its descendants).

    ``on_sample(job_id, cpu_percent, rss_bytes)`` is called from the event loop; CPU is the
    sum over the tree (100 = one core busy).
    """

    INTERVAL = 1.0
    HISTORY = 120
    """Samples kept on the job record (two minutes at one per second)."""

    def __init__(self, on_sample: Callable[[str, float, int], None]) -> None:
        self._on_sample = on_sample
        self._roots: dict[str, psutil.Process] = {}
        self._known: dict[str, dict[int, psutil.Process]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self, job_id: str, pid: int) -> None:
        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        self._roots[job_id] = root
        self._known[job_id] = {}
        self._sample_one(job_id)  # primes cpu_percent; the first real figure comes next tick
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self, job_id: str) -> None:
        self._roots.pop(job_id, None)
        self._known.pop(job_id, None)

    def close(self) -> None:
        self._roots.clear()
        self._known.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _sample_one(self, job_id: str) -> tuple[float, int] | None:
        root = self._roots[job_id]
        known = self._known[job_id]
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        cpu, rss = 0.0, 0
        alive: dict[int, psutil.Process] = {}
        for proc in procs:
            proc = known.get(proc.pid, proc)
            with contextlib.suppress(psutil.Error):
                cpu += proc.cpu_percent(None)
                rss += proc.memory_info().rss
                alive[proc.pid] = proc
        self._known[job_id] = alive
        return cpu, rss

    async def _loop(self) -> None:
        while self._roots:
            await asyncio.sleep(self.INTERVAL)
            for job_id in list(self._roots):
                if job_id not in self._roots:
                    continue
                try:
                    sample = self._sample_one(job_id)
                except Exception:
                    log.exception("sampling the processes of job %s failed", job_id)
                    sample = None
                if sample is not None:
                    self._on_sample(job_id, *sample)
