"""Module-level functions that FunctionRunner tests run in worker processes."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time

from pbrain_widgets.errors import JobFailed, NeedsUserAction

log = logging.getLogger("runner_jobs")


def report(ctx, steps: int = 3) -> None:
    """Progress, explicit log lines, a logging record and a print."""
    for i in range(steps):
        ctx.progress((i + 1) / steps * 100, f"step {i + 1}")
        ctx.log("INFO", f"did step {i + 1} of {ctx.stage} for {ctx.subject}")
    log.warning("a logging record from the worker")
    log.debug("a debug record, below the runner's log level")
    print("printed line", flush=True)
    ctx.success("all steps done")


async def report_async(ctx) -> None:
    for i in range(2):
        await asyncio.sleep(0.01)
        ctx.progress(50 * (i + 1), f"async step {i + 1}")
    ctx.log("INFO", "async function finished")


def explode(ctx) -> None:
    ctx.info("about to fail")
    raise ValueError(f"bad value for {ctx.subject}")


def refuse(ctx) -> None:
    raise JobFailed("input volume is empty")


def ask_user(ctx) -> None:
    raise NeedsUserAction("draw the arterial ROI")


def pid(ctx) -> None:
    ctx.info(f"worker pid {os.getpid()}")


def where(ctx) -> None:
    ctx.info(f"cwd {os.getcwd()}")


def sleep_with_child(ctx, seconds: float = 60.0) -> None:
    """Sleeps in the worker while a child that ignores SIGTERM sleeps too."""
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    child = subprocess.Popen([sys.executable, "-c", code])
    ctx.info(f"child pids: {child.pid}")
    time.sleep(seconds)


def crunch(ctx, seconds: float = 1.5) -> None:
    """Heavy numpy work (holds a CPU) for about ``seconds``."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 300))
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        a = np.linalg.qr(a)[0]
        n += 1
    ctx.info(f"{n} QR decompositions")


def die(ctx) -> None:
    print("going down", flush=True)
    os._exit(3)


def kill_self(ctx, signum: int) -> None:
    """The worker process dies by ``signum`` (as when the OOM killer picks it)."""
    print(f"sending myself signal {signum}", flush=True)
    os.kill(os.getpid(), signum)
    time.sleep(60)


def show_threads(ctx, names: list[str]) -> None:
    """Logs the worker's thread variables (``-`` for unset)."""
    ctx.info("threads: " + " ".join(f"{name}={os.environ.get(name, '-')}" for name in names))


def outputs(ctx, bad: bool = False) -> None:
    """Reports a file by ctx.output, a value, and one by the printed line protocol."""
    ctx.output("maps/ki.nii.gz", label="Ki", group="patlak")
    ctx.output(kind="value", label="voxels fitted", value=15729)
    print('OUTPUT {"path": "qc/montage.png", "kind": "image"}', flush=True)
    if bad:
        ctx.output(kind="picture", label="x", value=1)
    ctx.info("outputs reported")
